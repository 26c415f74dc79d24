package detect

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadConfig(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	c, err := LoadConfig(write("ok.json", `{"origin": {"denied_attempts": 7}}`))
	if err != nil {
		t.Fatal(err)
	}
	if c.Origin.DeniedAttempts != 7 || c.Drone.MinKmh != 80 {
		t.Errorf("a file over the defaults: attempts %d (want 7), drone min %v km/h (want the default 80)", c.Origin.DeniedAttempts, c.Drone.MinKmh)
	}
	for _, tc := range []struct{ name, text, want string }{
		{"typo.json", `{"origin": {"denied_attemps": 7}}`, "denied_attemps"},
		{"bad.json", `{"origin": {"denied_attempts": -1}}`, "bad.json"},
		{"broken.json", `{"origin": `, "broken.json"},
	} {
		if _, err := LoadConfig(write(tc.name, tc.text)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one mentioning %q", tc.name, err, tc.want)
		}
	}
}
