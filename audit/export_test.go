package audit_test

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/skyfence/skyfence"
	"github.com/skyfence/skyfence/audit"
)

// oddData are data the store keeps byte for byte but that an export cannot
// embed as they are (not compact JSON), or that JSON tools mangle.
var oddData = []string{"{\n\t\"pretty\": true\n}", ``, `null`, `{"z":"\u00e9<&>\u2028","a":1.50}`, `{"b":1,"a":2}`}

// exported builds buildChain's chain followed by entries with oddData, and
// returns the store, its key and its export.
func exported(t testing.TB) (skyfence.Store, *audit.Signer, string) {
	s := openSQLite(t, sqliteFile(t))
	k := signer(1)
	buildChain(t, s, k)
	for i, d := range oddData {
		e := &skyfence.AuditEntry{Time: epoch.Add(time.Duration(i) * time.Hour), Actor: "ünïcode", Action: "odd.data", Subject: `"quoted"`, Data: json.RawMessage(d)}
		inTx(t, s, func(tx skyfence.Tx) error { return tx.AppendAudit(t.Context(), e) })
	}
	inTx(t, s, func(tx skyfence.Tx) error { return k.Checkpoint(t.Context(), tx) })
	var b bytes.Buffer
	head, err := audit.Export(t.Context(), &b, s)
	if err != nil {
		t.Fatal(err)
	}
	es := entries(t, s)
	if last := es[len(es)-1]; head.Seq != last.Seq || !bytes.Equal(head.Hash, last.Hash) {
		t.Errorf("Export returned head %s, want %d:%x", head, last.Seq, last.Hash)
	}
	return s, k, b.String()
}

// exportLine is an entry's line as docs/AUDIT.md describes it.
type exportLine struct {
	Seq        int64           `json:"seq"`
	Time       string          `json:"time"`
	Actor      string          `json:"actor"`
	Action     string          `json:"action"`
	Subject    string          `json:"subject"`
	Reason     string          `json:"reason"`
	PrevHash   string          `json:"prev_hash"`
	Hash       string          `json:"hash"`
	Data       json.RawMessage `json:"data"`
	DataBase64 *string         `json:"data_base64"`
}

// verifyByTheDocument verifies an export by the rules of docs/AUDIT.md
// alone, calling nothing of skyfence's to parse or hash: what a regulator
// writes in any language. It returns the number of entries.
func verifyByTheDocument(export string, pinned ed25519.PublicKey) (int64, error) {
	lines := strings.Split(strings.TrimSuffix(export, "\n"), "\n")
	var h struct{ Format, Hash, Signature string }
	if err := json.Unmarshal([]byte(lines[0]), &h); err != nil || h != (struct{ Format, Hash, Signature string }{"skyfence-audit/v1", "sha256", "ed25519"}) {
		return 0, fmt.Errorf("header %s: %v", lines[0], err)
	}
	prev, hashes := make([]byte, 32), map[string]string{} // by decimal seq
	var key ed25519.PublicKey
	var keyID string
	var seq int64
	for _, line := range lines[1:] {
		seq++
		var e exportLine
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			return 0, fmt.Errorf("entry %d: %v", seq, err)
		}
		if e.Seq != seq {
			return 0, fmt.Errorf("entry %d: the line has seq %d", seq, e.Seq)
		}
		var data []byte
		if e.DataBase64 != nil {
			data, _ = base64.StdEncoding.DecodeString(*e.DataBase64)
		} else {
			data = []byte(line[strings.Index(line, `,"data":`)+len(`,"data":`) : len(line)-1])
		}
		sum := sha256.New()
		sum.Write(prev)
		for _, f := range [][]byte{[]byte(strconv.FormatInt(seq, 10)), []byte(e.Time), []byte(e.Actor), []byte(e.Action), []byte(e.Subject), []byte(e.Reason), data} {
			sum.Write(binary.BigEndian.AppendUint64(nil, uint64(len(f))))
			sum.Write(f)
		}
		if e.PrevHash != hex.EncodeToString(prev) || e.Hash != hex.EncodeToString(sum.Sum(nil)) {
			return 0, fmt.Errorf("entry %d: not chained", seq)
		}
		prev = sum.Sum(nil)
		hashes[strconv.FormatInt(seq, 10)] = e.Hash
		d := map[string]string{}
		if e.Action == "audit.key" || e.Action == "audit.checkpoint" {
			var m map[string]any
			dec := json.NewDecoder(bytes.NewReader(e.Data))
			dec.UseNumber()
			dec.Decode(&m)
			for k, v := range m {
				d[k] = fmt.Sprint(v)
			}
		}
		sig, _ := base64.StdEncoding.DecodeString(d["signature"])
		switch e.Action {
		case "audit.key":
			pub, _ := base64.StdEncoding.DecodeString(d["public_key"])
			id := sha256.Sum256(pub)
			signer := key
			if d["previous_key_id"] == "" {
				signer = pub
				if key != nil || pinned != nil && !pinned.Equal(ed25519.PublicKey(pub)) {
					return 0, fmt.Errorf("entry %d: untrusted root key", seq)
				}
			} else if d["previous_key_id"] != keyID {
				return 0, fmt.Errorf("entry %d: signed by a key not in force", seq)
			}
			msg := "skyfence-audit-key\n" + d["key_id"] + "\n" + d["public_key"] + "\n" + d["previous_key_id"]
			if d["key_id"] != hex.EncodeToString(id[:8]) || len(signer) != 32 || !ed25519.Verify(signer, []byte(msg), sig) {
				return 0, fmt.Errorf("entry %d: bad key entry", seq)
			}
			key, keyID = pub, d["key_id"]
		case "audit.checkpoint":
			msg := "skyfence-audit-checkpoint\n" + d["seq"] + "\n" + d["hash"]
			if d["key_id"] != keyID || key == nil || !ed25519.Verify(key, []byte(msg), sig) || hashes[d["seq"]] != d["hash"] {
				return 0, fmt.Errorf("entry %d: bad checkpoint", seq)
			}
		}
	}
	if pinned != nil && key == nil {
		return 0, fmt.Errorf("no key entry")
	}
	return seq, nil
}

func TestExportByTheDocument(t *testing.T) {
	s, k, export := exported(t)
	es := entries(t, s)
	n, err := verifyByTheDocument(export, k.PublicKey())
	if err != nil {
		t.Fatalf("the export does not verify by the document: %v", err)
	}
	if n != int64(len(es)) {
		t.Errorf("%d entries exported, want %d", n, len(es))
	}
	lines := strings.Split(export, "\n")
	for i, d := range oddData {
		line := lines[chainLen+1+i]
		switch embedded := strings.HasSuffix(line, `,"data":`+d+`}`); {
		case embedded != (d == `null` || d == `{"b":1,"a":2}` || strings.HasPrefix(d, `{"z"`)):
			t.Errorf("data %q: line %s; want it embedded only if compact JSON", d, line)
		case !embedded && !strings.HasSuffix(line, `,"data_base64":"`+base64.StdEncoding.EncodeToString([]byte(d))+`"}`):
			t.Errorf("data %q: line %s, want it in data_base64, last", d, line)
		}
	}
	if want := fmt.Sprintf(`{"seq":7,"time":"2026-03-01T12:00:07.123456796Z","actor":"key-1","action":"terminal.status","subject":"UT-0007","reason":"case 7","prev_hash":"%x","hash":"%x","data":{"from":"active","to":"suspended","i":7}}`, es[6].PrevHash, es[6].Hash); lines[7] != want {
		t.Errorf("line of entry 7:\n%s\nwant\n%s", lines[7], want)
	}
}

// tamperLines returns the export with its entry lines (1-based, as their
// seqs) changed by fn.
func tamperLines(export string, fn func(ls []string) []string) string {
	ls := strings.Split(strings.TrimSuffix(export, "\n"), "\n")
	return strings.Join(append(ls[:1:1], fn(ls[1:])...), "\n") + "\n"
}

// lineTampers are changes to an export's lines, and the first problem
// they make.
var lineTampers = []struct {
	name string
	fn   func(ls []string) []string
	seq  int64
	kind audit.Kind
}{
	{"actor of 7 changed", func(ls []string) []string {
		ls[6] = strings.Replace(ls[6], `"actor":"key-1"`, `"actor":"key-2"`, 1)
		return ls
	}, 7, audit.Changed},
	{"7 removed", func(ls []string) []string { return slices.Delete(ls, 6, 7) }, 7, audit.Deleted},
	{"7 twice", func(ls []string) []string { return slices.Insert(ls, 7, ls[6]) }, 7, audit.Inserted},
	{"7 and 8 swapped", func(ls []string) []string {
		ls[6], ls[7] = ls[7], ls[6]
		return ls
	}, 7, audit.Reordered},
	{"15 moved before 7", func(ls []string) []string {
		l := ls[14]
		return slices.Insert(slices.Delete(ls, 14, 15), 6, l)
	}, 7, audit.Reordered},
	{"9 moved after 12", func(ls []string) []string {
		l := ls[8]
		return slices.Insert(slices.Delete(ls, 8, 9), 11, l)
	}, 9, audit.Reordered},
	{"forged line inserted after 7", func(ls []string) []string {
		return slices.Insert(ls, 7, strings.Replace(ls[7], `"reason":"case 8"`, `"reason":"forged"`, 1))
	}, 8, audit.Inserted},
	{"data of the last checkpoint changed", func(ls []string) []string {
		ls[len(ls)-1] = strings.Replace(ls[len(ls)-1], `"seq":27,"hash"`, `"seq":26,"hash"`, 1)
		return ls
	}, 28, audit.Changed},
}

func TestVerifyExport(t *testing.T) {
	s, k, export := exported(t)
	rep, err := audit.VerifyExport(t.Context(), strings.NewReader(export), audit.VerifyOptions{PublicKeys: []ed25519.PublicKey{k.PublicKey()}})
	if err != nil {
		t.Fatal(err)
	}
	if want := verify(t, s, audit.VerifyOptions{}); rep.Problem != nil || rep.Entries != want.Entries || rep.Checkpoints != 3 || rep.Head.String() != want.Head.String() {
		t.Errorf("export report %+v, want that of the store, %+v", rep, want)
	}
	for _, tc := range lineTampers {
		t.Run(tc.name, func(t *testing.T) {
			tampered := tamperLines(export, tc.fn)
			rep, err := audit.VerifyExport(t.Context(), strings.NewReader(tampered), audit.VerifyOptions{})
			if err != nil {
				t.Fatal(err)
			}
			wantProblem(t, rep, tc.seq, tc.kind)
			if _, err := verifyByTheDocument(tampered, nil); err == nil {
				t.Error("the document's rules find nothing wrong")
			}
		})
	}
}

func TestVerifyExportRefusesMalformed(t *testing.T) {
	_, _, export := exported(t)
	for _, tc := range []struct {
		name, export, want string
	}{
		{"no header", strings.SplitN(export, "\n", 2)[1], "line 1 is not a skyfence-audit/v1 header"},
		{"time with a trailing zero", strings.Replace(export, `12:00:07.123456796Z`, `12:00:07.1234567960Z`, 1), "line 8: time"},
		{"data twice", tamperLines(export, func(ls []string) []string {
			ls[2] = strings.Replace(ls[2], `"data":{`, `"data_base64":"","data":{`, 1)
			return ls
		}), `line 4: want one of "data" (compact JSON) and "data_base64"`},
		{"data not last", tamperLines(export, func(ls []string) []string {
			ls[4] = strings.Replace(ls[4], `"seq":5,`, ``, 1)
			ls[4] = strings.TrimSuffix(ls[4], "}") + `,"seq":5}`
			return ls
		}), `line 6: "data" is not the last member`},
		{"a member missing", strings.Replace(export, `"subject":"UT-0005",`, ``, 1), "line 6: a member is missing"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := audit.VerifyExport(t.Context(), strings.NewReader(tc.export), audit.VerifyOptions{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("VerifyExport: %v, want an error about %s", err, tc.want)
			}
		})
	}
}
