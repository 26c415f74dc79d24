package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/skyfence/skyfence/control"
)

// TestServeShutdownAndTransparency starts the server as serve does, sends a
// fix, stops it gracefully, and checks that the last state, the audit chain
// and the transparency report are all there afterwards.
func TestServeShutdownAndTransparency(t *testing.T) {
	dir := t.TempDir()
	cfg := DefaultServeConfig()
	cfg.Addr, cfg.DataDir, cfg.Store, cfg.LogLevel = "127.0.0.1:0", dir, "sqlite", "warn"
	var out strings.Builder
	e := env{nil, strings.NewReader(""), &out, io.Discard}
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := OpenServer(ctx, cfg, e)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	key := strings.Fields(out.String()[strings.Index(out.String(), "SKYFENCE_KEY="):])[0][len("SKYFENCE_KEY="):]
	base := "http://" + srv.Addr()
	call := func(path, body string) string {
		req, _ := http.NewRequest("POST", base+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode >= 300 {
			t.Fatalf("POST %s: %d %s", path, resp.StatusCode, b)
		}
		return string(b)
	}
	call("/v1/accounts", `{"id":"a1"}`)
	call("/v1/terminals", `{"id":"t1","account_id":"a1","plan":"roam","country":"DE"}`)
	call("/v1/terminals/t1/activate", `{"lat":52.52,"lon":13.4}`)
	var gw struct{ Secret string }
	_ = json.Unmarshal([]byte(call("/v1/keys", `{"name":"gw","role":"gateway"}`)), &gw)
	key = gw.Secret
	at := time.Now().UTC().Format(time.RFC3339Nano)
	if res := call("/v1/fixes", `{"fixes":[{"terminal_id":"t1","time":"`+at+`","lat":52.52,"lon":13.4}]}`); !strings.Contains(res, `"allow":true`) {
		t.Fatalf("decision: %s", res)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	// Everything acknowledged is in the store after the shutdown.
	var vout strings.Builder
	if code := run(context.Background(), env{[]string{"audit", "verify", "--data", dir}, nil, &vout, io.Discard}); code != 0 || !strings.Contains(vout.String(), "result:      ok") {
		t.Errorf("audit verify after shutdown: %d\n%s", code, vout.String())
	}
	var tout strings.Builder
	if code := run(context.Background(), env{[]string{"transparency", "--data", dir, "--out", dir}, nil, &tout, io.Discard}); code != 0 {
		t.Fatalf("transparency: %d %s", code, tout.String())
	}
	page, err := os.ReadFile(filepath.Join(dir, "transparency.html"))
	if err != nil || !strings.Contains(string(page), "Russia (RU)") || strings.Contains(string(page), "t1") {
		t.Errorf("transparency page: %v; names Russia: %v; names a terminal: %v", err, strings.Contains(string(page), "Russia (RU)"), strings.Contains(string(page), "t1"))
	}
	srv2, err := OpenServer(context.Background(), cfg, env{nil, nil, io.Discard, io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	defer srv2.close()
	st, err := srv2.svc.State(adminCtx(), "t1")
	if err != nil || st.Fix.Lat != 52.52 || st.Reason != "ok" {
		t.Errorf("last state after restart: %+v %v", st, err)
	}
}

func adminCtx() context.Context {
	return control.WithPrincipal(context.Background(), control.System)
}

// serve runs `skyfence serve args...` in process as main does, until ctx
// ends, and returns its exit status, its standard output, and the lines
// of its standard error that are not JSON log records: main's message.
func serve(ctx context.Context, args ...string) (code int, stdout, message string) {
	var out, errs strings.Builder
	code = run(ctx, env{append([]string{"serve"}, args...), strings.NewReader(""), &out, &errs})
	var msg []string
	for l := range strings.SplitSeq(errs.String(), "\n") {
		if l != "" && !strings.HasPrefix(l, "{") {
			msg = append(msg, l)
		}
	}
	return code, out.String(), strings.Join(msg, "\n")
}

// Every way a start of serve fails ends with exit status 1 and one line
// that says which flag or step failed and why: no panic (a bad --data dir
// and a PostgreSQL that refuses used to panic in Server.close, on the nil
// store), and no second server on one SQLite file (it used to serve,
// with a registry of its own).
func TestServeStartFailsCleanly(t *testing.T) {
	tmp := t.TempDir()
	file := filepath.Join(tmp, "a-file")
	if err := os.WriteFile(file, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	held := t.TempDir()
	cfg := DefaultServeConfig()
	cfg.Addr, cfg.DataDir, cfg.Store, cfg.LogLevel = "127.0.0.1:0", held, "sqlite", "warn"
	first, err := OpenServer(context.Background(), cfg, env{nil, nil, io.Discard, io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	defer first.close()

	for _, tc := range []struct {
		name string
		args []string
		want []string // in the message, in order
	}{
		// A policy's message is a line, then its problems, a line each.
		{"data is a file", []string{"--data", file}, []string{"skyfence serve: --data " + file + ": ", "not a directory"}},
		{"data under a file", []string{"--data", filepath.Join(file, "data")}, []string{"skyfence serve: --data " + filepath.Join(file, "data") + ": ", "not a directory"}},
		{"port in use", []string{"--addr", busy.Addr().String()}, []string{"skyfence serve: --addr " + busy.Addr().String() + ": ", "address already in use"}},
		{"policy missing", []string{"--policy", filepath.Join(tmp, "none.yaml")}, []string{"skyfence serve: policy " + filepath.Join(tmp, "none.yaml") + ":", "no such file"}},
		{"policy a directory", []string{"--policy", tmp}, []string{"skyfence serve: policy " + tmp + ":", "is a directory"}},
		{"postgres refuses", []string{"--store", "postgres", "--postgres-url", "postgres://skyfence:s3cret@127.0.0.1:1/x?sslmode=disable&connect_timeout=5"},
			[]string{"skyfence serve: store postgres (--postgres-url): ", "connection refused"}},
		{"unknown store", []string{"--store", "oracle"}, []string{`skyfence serve: --store: unknown store "oracle"`}},
		{"second server on one SQLite file", []string{"--data", held},
			[]string{fmt.Sprintf("skyfence serve: --data %s: another skyfence serve (pid %d) is using %s", held, os.Getpid(), filepath.Join(held, "skyfence.db"))}},
		{"cluster without PostgreSQL", []string{"--mode", "cluster", "--nats-url", "nats://127.0.0.1:1"}, []string{"skyfence serve: --mode cluster needs --store postgres"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"--addr", "127.0.0.1:0", "--data", t.TempDir(), "--log-level", "warn"}, tc.args...)
			code, out, msg := serve(context.Background(), args...)
			lines := 1
			if strings.HasPrefix(tc.name, "policy") {
				lines = 2
			}
			if code != 1 || strings.Count(msg, "\n")+1 != lines {
				t.Errorf("exit status %d, message:\n%s\nwant 1 and %d lines", code, msg, lines)
			}
			rest := msg
			for _, w := range tc.want {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Fatalf("message:\n%s\nwant %q (in order)", msg, w)
				}
				rest = rest[i+len(w):]
			}
			if strings.Contains(msg, "s3cret") || strings.Contains(out, "SKYFENCE_KEY") {
				t.Errorf("message shows the password, or an admin key was made: %s %s", msg, out)
			}
		})
	}
	// The lock goes with the server that held it.
	if err := first.close(); err != nil {
		t.Fatal(err)
	}
	again, err := OpenServer(context.Background(), cfg, env{nil, nil, io.Discard, io.Discard})
	if err != nil {
		t.Fatalf("after the first server closed: %v", err)
	}
	again.close()
}

// A first start that fails after it opened the store (here on its
// --webhooks file) creates no admin key it could not print: the next
// start prints one. Before, the key was made before the last steps, and
// a start that failed after it left a store no one could administer.
func TestServeFailedFirstStartKeepsTheAdminKey(t *testing.T) {
	dir := t.TempDir()
	code, out, msg := serve(context.Background(), "--addr", "127.0.0.1:0", "--data", dir, "--log-level", "warn",
		"--webhooks", filepath.Join(dir, "none.yaml"))
	if code != 1 || !strings.HasPrefix(msg, "skyfence serve: --webhooks: ") || strings.Contains(out, "SKYFENCE_KEY") {
		t.Fatalf("start with a missing --webhooks file: %d %q, output %q", code, msg, out)
	}
	cfg := DefaultServeConfig()
	cfg.Addr, cfg.DataDir, cfg.Store, cfg.LogLevel = "127.0.0.1:0", dir, "sqlite", "warn"
	var stdout strings.Builder
	srv, err := OpenServer(context.Background(), cfg, env{nil, nil, &stdout, io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.close()
	if !strings.Contains(stdout.String(), "export SKYFENCE_KEY=sfk_") {
		t.Fatalf("the next start printed no admin key:\n%s", stdout.String())
	}
}

// A signal that comes before the server is up stops it cleanly: exit
// status 0 and a line that says so. Before, Server.close panicked on the
// nil SQLite handle the interrupted open left.
func TestServeStoppedBeforeItStarted(t *testing.T) {
	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(errors.New("interrupt signal received")) // as signal.NotifyContext's
	dir := t.TempDir()
	code, out, msg := serve(ctx, "--addr", "127.0.0.1:0", "--data", dir, "--log-level", "warn")
	if code != 0 || msg != "skyfence serve: stopped during start-up (interrupt signal received)" {
		t.Errorf("exit status %d, message %q", code, msg)
	}
	if strings.Contains(out, "SKYFENCE_KEY") {
		t.Errorf("a server stopped before it started made an admin key:\n%s", out)
	}
	// It left the data directory to the next server.
	cfg := DefaultServeConfig()
	cfg.Addr, cfg.DataDir, cfg.Store, cfg.LogLevel = "127.0.0.1:0", dir, "sqlite", "warn"
	srv, err := OpenServer(context.Background(), cfg, env{nil, nil, io.Discard, io.Discard})
	if err != nil {
		t.Fatalf("the next start: %v", err)
	}
	srv.close()
}

// close may be called at any point, and more than once: a server with
// nothing open closes, and a second close neither panics nor closes
// again.
func TestServerCloseIsIdempotentAndNilSafe(t *testing.T) {
	if err := (&Server{}).close(); err != nil {
		t.Errorf("a server with nothing open: %v", err)
	}
	cfg := DefaultServeConfig()
	cfg.Addr, cfg.DataDir, cfg.Store, cfg.LogLevel = "127.0.0.1:0", t.TempDir(), "sqlite", "warn"
	srv, err := OpenServer(context.Background(), cfg, env{nil, nil, io.Discard, io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	addr := srv.Addr()
	for i := range 2 {
		if err := srv.close(); err != nil {
			t.Errorf("close %d: %v", i+1, err)
		}
	}
	if c, err := net.Dial("tcp", addr); err == nil {
		c.Close()
		t.Errorf("%s still listens after close", addr)
	}
}

// SIGINT and SIGTERM stop the skyfence binary at every moment of its
// start-up (each signal is sent as the process logs one of its steps, so
// it lands during that step or the next) and after it: exit status 0,
// and either "stopped during start-up" or the log's "serve: stopped",
// never a panic.
func TestServeSignalDuringStartUp(t *testing.T) {
	bin := binary(t)
	moments := []string{`"msg":"applied migration"`, `"msg":"control: loaded"`, `"msg":"serve: registering the audit signing key"`, "serving on"}
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		for _, at := range moments {
			t.Run(fmt.Sprintf("%v at %s", sig, at), func(t *testing.T) {
				cmd := exec.Command(bin, "serve", "--addr", "127.0.0.1:0", "--data", t.TempDir(), "--log-level", "info")
				r, w := io.Pipe()
				cmd.Stdout, cmd.Stderr = w, w
				if err := cmd.Start(); err != nil {
					t.Fatal(err)
				}
				var log strings.Builder
				sent := false
				sc := bufio.NewScanner(r)
				done := make(chan error, 1)
				go func() { done <- cmd.Wait(); w.Close() }()
				for sc.Scan() {
					log.WriteString(sc.Text() + "\n")
					switch {
					case !sent && strings.Contains(sc.Text(), at):
						cmd.Process.Signal(sig)
						sent = true
					case !sent && strings.Contains(sc.Text(), "serving on"):
						// The start-up is over without the moment: stop, and
						// fail below, rather than wait for ever.
						cmd.Process.Kill()
					}
				}
				err := <-done
				out := log.String()
				if !sent {
					t.Fatalf("the process never logged %s:\n%s", at, out)
				}
				if err != nil || strings.Contains(out, "panic") {
					t.Fatalf("%v: exit %v\n%s", sig, err, out)
				}
				name := map[syscall.Signal]string{syscall.SIGINT: "interrupt", syscall.SIGTERM: "terminated"}[sig]
				if !strings.Contains(out, "skyfence serve: stopped during start-up ("+name+" signal received)\n") &&
					!strings.Contains(out, `"msg":"serve: stopped"`) {
					t.Errorf("no clean stop in the output:\n%s", out)
				}
			})
		}
	}
}

// In cluster mode, NATS unreachable at start is not an error: the
// authorizer serves, says so, and stops cleanly; a signal before it is up
// stops it cleanly too.
func TestServeClusterStartsWithoutNATS(t *testing.T) {
	db := freshDatabase(t)
	args := []string{"--addr", "127.0.0.1:0", "--data", t.TempDir(), "--log-level", "warn", "--store", "postgres",
		"--postgres-url", db, "--mode", "cluster", "--nats-url", "nats://127.0.0.1:1", "--node", "n1"}
	stopped, cancel := context.WithCancelCause(context.Background())
	cancel(errors.New("terminated signal received"))
	if code, _, msg := serve(stopped, args...); code != 0 || msg != "skyfence serve: stopped during start-up (terminated signal received)" {
		t.Errorf("stopped before it started: exit status %d, message %q", code, msg)
	}

	cfg := DefaultServeConfig()
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	serveFlags(fs, &cfg)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	log := &syncWriter{w: new(strings.Builder)}
	srv, err := OpenServer(context.Background(), cfg, env{nil, nil, io.Discard, log})
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	resp, err := http.Get("http://" + srv.Addr() + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET /healthz with NATS unreachable: %d", resp.StatusCode)
	}
	stop()
	if err := <-done; err != nil {
		t.Errorf("Run: %v", err)
	}
	if !strings.Contains(log.String(), `"msg":"serve: NATS is unreachable; serving on`) {
		t.Errorf("no warning that NATS is unreachable:\n%s", log.String())
	}
}

// syncWriter is a writer for the log of a server, whose goroutines write
// at once.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

func (s *syncWriter) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return fmt.Sprint(s.w)
}

// A request still in flight after --drain is cut off, and Run says so
// (main exits 1 with it); the server closes all the same and the data
// directory is free for the next one.
func TestServeDrainCutOff(t *testing.T) {
	cfg := DefaultServeConfig()
	cfg.Addr, cfg.DataDir, cfg.Store, cfg.LogLevel, cfg.Drain = "127.0.0.1:0", t.TempDir(), "sqlite", "warn", 100*time.Millisecond
	srv, err := OpenServer(context.Background(), cfg, env{nil, nil, io.Discard, io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	// A request whose headers never end: the connection is never idle.
	c, err := net.Dial("tcp", srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: x\r\n"); err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get("http://" + srv.Addr() + "/healthz") // Run serves, the half request is open
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	stop()
	err = <-done
	if err == nil || err.Error() != "requests still in flight after --drain 100ms were cut off" {
		t.Fatalf("Run: %v", err)
	}
	again, err := OpenServer(context.Background(), cfg, env{nil, nil, io.Discard, io.Discard})
	if err != nil {
		t.Fatalf("after the cut-off: %v", err)
	}
	again.close()
}
