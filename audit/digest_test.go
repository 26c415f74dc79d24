package audit_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"testing"
	"time"

	"github.com/skyfence/skyfence"
)

// The worked example of docs/AUDIT.md: an entry, the bytes its hash covers
// and the hash. If this test fails, the document is wrong.
const (
	exampleTime = "2026-03-01T12:00:00.5Z"
	exampleData = `{"from":"active","to":"suspended"}`
	// exampleBytes is the digest's input, one line per part as the
	// document shows it.
	exampleBytes = "" +
		"0000000000000000000000000000000000000000000000000000000000000000" + // prev_hash
		"0000000000000001" + "31" + // seq "1"
		"0000000000000016" + "323032362d30332d30315431323a30303a30302e355a" + // time
		"0000000000000007" + "6b65792d6f7073" + // actor "key-ops"
		"000000000000000f" + "7465726d696e616c2e737461747573" + // action "terminal.status"
		"0000000000000004" + "55542d31" + // subject "UT-1"
		"000000000000000b" + "636f757274206f72646572" + // reason "court order"
		"0000000000000022" + "7b2266726f6d223a22616374697665222c22746f223a2273757370656e646564227d" // data
	exampleHash = "3a68abf8522ecf44aaae1ebd6643662f46005f02822f05b454b0e431e7125470"
)

func TestDigestWorkedExample(t *testing.T) {
	at, err := time.Parse(time.RFC3339Nano, exampleTime)
	if err != nil {
		t.Fatal(err)
	}
	e := &skyfence.AuditEntry{Seq: 1, Time: at, Actor: "key-ops", Action: "terminal.status", Subject: "UT-1", Reason: "court order", Data: json.RawMessage(exampleData)}

	// The documented layout, built from its rules alone.
	layout := make([]byte, 32)
	for _, f := range []string{"1", exampleTime, e.Actor, e.Action, e.Subject, e.Reason, exampleData} {
		layout = binary.BigEndian.AppendUint64(layout, uint64(len(f)))
		layout = append(layout, f...)
	}
	if got := hex.EncodeToString(layout); got != exampleBytes {
		t.Errorf("layout\n%s\nwant the documented\n%s", got, exampleBytes)
	}
	sum := sha256.Sum256(layout)
	if got := hex.EncodeToString(sum[:]); got != exampleHash {
		t.Errorf("SHA-256 of the layout %s, want the documented %s", got, exampleHash)
	}
	if got := e.Digest(make([]byte, 32)); !bytes.Equal(got, sum[:]) {
		t.Errorf("Digest = %x, want the documented %x", got, sum)
	}
}
