package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/skyfence/skyfence/policy"
)

const changeUsage = `usage: skyfence change <action> [flags] [ID]

Works with policy changes on a running server: every change of where
service works is drafted, proposed with its impact preview, approved by
people other than its author, then activated (or activated at once in an
emergency, to be reviewed after).

actions:
  draft      --policy FILE --title T --justification J --requester R --category C
             [--ref REF]... [--not-before TIME] [--expires TIME]
  propose    ID        submit a draft for review (computes the impact preview)
  review     ID --approve|--reject [--comment C]
  activate   ID        put an approved change into force
  emergency  ID --justification J
  withdraw   ID [--reason R]
  rollback   --reason R [--requester R] [--category C] [--ref REF]...
             draft the rollback of the change in force: a change whose
             files are those in force before it, reviewed like any other
             (propose, two approvals, activate, or emergency)
  list       [--state S]
  show       ID        the change, its reviews and its impact preview

The server is $SKYFENCE_URL (default http://127.0.0.1:8080) and the API key
$SKYFENCE_KEY; --url and --key override them.
`

func runChange(ctx context.Context, e env) error {
	if len(e.args) == 0 || strings.HasPrefix(e.args[0], "-") {
		fmt.Fprint(e.stderr, changeUsage)
		return errUsage
	}
	action := e.args[0]
	fs := flag.NewFlagSet("change "+action, flag.ContinueOnError)
	url := fs.String("url", envOr("SKYFENCE_URL", "http://127.0.0.1:8080"), "server `URL`")
	key := fs.String("key", os.Getenv("SKYFENCE_KEY"), "API `key`")
	asJSON := fs.Bool("json", false, "print the server's JSON answer")
	var (
		file, title, justification, requester, category, notBefore, expires, comment, reason, state string
		approve, reject                                                                             bool
		refs                                                                                        multiFlag
	)
	switch action {
	case "draft":
		fs.StringVar(&file, "policy", "", "policy `file` (its zone files are sent with it)")
		fs.StringVar(&title, "title", "", "a short title")
		fs.StringVar(&justification, "justification", "", "why the change is needed")
		fs.StringVar(&requester, "requester", "", "who asked for it (\"internal\" if no one outside)")
		fs.StringVar(&category, "category", "", "regulator, government, court_order, internal_security, commercial or other")
		fs.Var(&refs, "ref", "a reference (repeatable)")
		fs.StringVar(&notBefore, "not-before", "", "scheduled activation `time` (RFC 3339)")
		fs.StringVar(&expires, "expires", "", "the change ends by itself at `time` (RFC 3339)")
	case "review":
		fs.BoolVar(&approve, "approve", false, "approve the change")
		fs.BoolVar(&reject, "reject", false, "reject the change")
		fs.StringVar(&comment, "comment", "", "why")
	case "emergency":
		fs.StringVar(&justification, "justification", "", "why it cannot wait for review")
	case "withdraw":
		fs.StringVar(&reason, "reason", "", "why")
	case "rollback":
		fs.StringVar(&reason, "reason", "", "why the change in force is undone (public: the transparency report shows it)")
		fs.StringVar(&requester, "requester", "", "who asked for it (default \"internal\")")
		fs.StringVar(&category, "category", "", "regulator, government, court_order, internal_security, commercial or other (default)")
		fs.Var(&refs, "ref", "a reference (repeatable)")
	case "list":
		fs.StringVar(&state, "state", "", "only changes in this state")
	case "propose", "activate", "show":
	default:
		fmt.Fprintf(e.stderr, "skyfence change: unknown action %q\n\n%s", action, changeUsage)
		return errUsage
	}
	fs.Usage = func() { fmt.Fprint(e.stderr, changeUsage); fs.PrintDefaults() }
	// The ID may come before the flags (skyfence change review ID --approve).
	args, id := e.args[1:], ""
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		id, args = args[0], args[1:]
	}
	if err := parseFlags(fs, env{args, e.stdin, e.stdout, e.stderr}); err != nil {
		return err
	}
	c := &apiClient{url: strings.TrimSuffix(*url, "/"), key: *key}
	if id == "" {
		id = fs.Arg(0)
	}
	needID := action != "draft" && action != "rollback" && action != "list"
	if needID && id == "" {
		fmt.Fprintf(e.stderr, "skyfence change %s: which change? give its ID\n", action)
		return errUsage
	}
	var out json.RawMessage
	var err error
	switch action {
	case "draft":
		var body map[string]any
		if body, err = draftBody(file, title, justification, requester, category, refs, notBefore, expires); err == nil {
			out, err = c.do(ctx, "POST", "/v1/changes", body)
		}
	case "review":
		if approve == reject {
			fmt.Fprintln(e.stderr, "skyfence change review: say --approve or --reject")
			return errUsage
		}
		out, err = c.do(ctx, "POST", "/v1/changes/"+id+"/review", map[string]any{"approve": approve, "comment": comment})
	case "emergency":
		out, err = c.do(ctx, "POST", "/v1/changes/"+id+"/emergency", map[string]any{"justification": justification})
	case "withdraw":
		out, err = c.do(ctx, "POST", "/v1/changes/"+id+"/withdraw", map[string]any{"reason": reason})
	case "propose", "activate":
		out, err = c.do(ctx, "POST", "/v1/changes/"+id+"/"+action, map[string]any{})
	case "rollback":
		out, err = c.do(ctx, "POST", "/v1/policy/rollback", map[string]any{"reason": reason, "requester": requester, "category": category, "references": refs})
	case "list":
		out, err = listChanges(ctx, c, state, 1000)
	case "show":
		out, err = c.do(ctx, "GET", "/v1/changes/"+id, nil)
	}
	if err != nil {
		return err
	}
	if *asJSON {
		_, err := fmt.Fprintf(e.stdout, "%s\n", bytes.TrimSpace(out))
		return err
	}
	return printChanges(e.stdout, action, out)
}

// draftBody reads the policy file and the zone files it names.
func draftBody(file, title, justification, requester, category string, refs []string, notBefore, expires string) (map[string]any, error) {
	if file == "" {
		return nil, fmt.Errorf("--policy: which policy file?")
	}
	src, err := policy.Load(file)
	if err != nil {
		return nil, err
	}
	files := []map[string]string{{"name": filepath.Base(file), "content": string(src.Raw)}}
	for i, z := range src.Doc.Zones {
		files = append(files, map[string]string{"name": z.File, "content": string(src.ZoneRaws[i])})
	}
	body := map[string]any{"title": title, "justification": justification, "requester": requester,
		"category": category, "references": refs, "files": files}
	for name, v := range map[string]string{"not_before": notBefore, "expires": expires} {
		if v == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return nil, fmt.Errorf("--%s: want an RFC 3339 time: %w", strings.ReplaceAll(name, "_", "-"), err)
		}
		body[name] = t
	}
	return body, nil
}

// changeView is what the CLI prints of a change.
type changeView struct {
	ID         string
	State      string
	Title      string
	Version    string
	Category   string
	Requester  string
	Emergency  bool
	Unreviewed bool
	Overdue    bool
	RollsBack  string `json:"rolls_back"`
	Reviews    []struct {
		By      struct{ Person string }
		Approve bool
		Comment string
	}
	Impact *policy.ImpactReport
}

// listChanges reads every page (of pageSize) of the changes in state ("":
// all), newest first, and returns them as one answer of GET /v1/changes.
func listChanges(ctx context.Context, c *apiClient, state string, pageSize int) (json.RawMessage, error) {
	var all []json.RawMessage
	cursor := ""
	for {
		q := url.Values{"limit": {strconv.Itoa(pageSize)}, "state": {state}, "cursor": {cursor}}
		out, err := c.do(ctx, "GET", "/v1/changes?"+q.Encode(), nil)
		if err != nil {
			return nil, err
		}
		var page struct {
			Changes    []json.RawMessage `json:"changes"`
			NextCursor string            `json:"next_cursor"`
		}
		if err := json.Unmarshal(out, &page); err != nil {
			return nil, fmt.Errorf("the list of changes: %w", err)
		}
		all = append(all, page.Changes...)
		if page.NextCursor == "" {
			return json.Marshal(map[string]any{"changes": all})
		}
		cursor = page.NextCursor
	}
}

func printChanges(w io.Writer, action string, out json.RawMessage) error {
	var list struct{ Changes []changeView }
	if action == "list" {
		if err := json.Unmarshal(out, &list); err != nil {
			return err
		}
		for _, c := range list.Changes {
			fmt.Fprintf(w, "%-22s %-12s %s%s\n", c.ID, c.State, c.Title, flags(c))
		}
		return nil
	}
	var c changeView
	if err := json.Unmarshal(out, &c); err != nil {
		return err
	}
	fmt.Fprintf(w, "%s %s: %s%s\n  version %s, requested by %s (%s)\n", c.ID, c.State, c.Title, flags(c), c.Version, c.Requester, c.Category)
	if c.RollsBack != "" {
		fmt.Fprintf(w, "  rolls back %s\n", c.RollsBack)
	}
	for _, r := range c.Reviews {
		verdict := "rejected"
		if r.Approve {
			verdict = "approved"
		}
		fmt.Fprintf(w, "  %s by %s: %s\n", verdict, r.By.Person, r.Comment)
	}
	if c.Impact != nil && (action == "show" || action == "propose") {
		fmt.Fprint(w, indent(c.Impact.Text()))
	}
	if action == "rollback" {
		fmt.Fprintf(w, "  nothing is in force yet: skyfence change propose %s; two approvers other than you review it;\n"+
			"  then skyfence change activate %s (or, if it cannot wait: skyfence change emergency %s --justification J)\n", c.ID, c.ID, c.ID)
	}
	return nil
}

func flags(c changeView) string {
	var f []string
	if c.Emergency {
		f = append(f, "emergency")
	}
	if c.Unreviewed {
		f = append(f, "UNREVIEWED")
	}
	if c.Overdue {
		f = append(f, "REVIEW OVERDUE")
	}
	if len(f) == 0 {
		return ""
	}
	return " [" + strings.Join(f, ", ") + "]"
}

func indent(s string) string {
	return "  " + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n  ") + "\n"
}

// apiClient calls the skyfence API.
type apiClient struct {
	url, key string
}

func (c *apiClient) do(ctx context.Context, method, path string, body any) (json.RawMessage, error) {
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.url+path, r)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if c.key != "" {
		req.Header.Set("Authorization", "Bearer "+c.key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode >= 300 {
		var e struct {
			Error struct{ Code, Message, Field string }
		}
		if json.Unmarshal(out, &e) == nil && e.Error.Code != "" {
			if e.Error.Field != "" {
				return nil, fmt.Errorf("%s (%s, field %s)", e.Error.Message, e.Error.Code, e.Error.Field)
			}
			return nil, fmt.Errorf("%s (%s)", e.Error.Message, e.Error.Code)
		}
		return nil, fmt.Errorf("%s %s: %s", method, path, resp.Status)
	}
	return out, nil
}

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }
