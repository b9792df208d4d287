package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// ghmicons serve's usage and configuration errors: one line, exit status 2,
// before anything listens.
func TestServeUsageErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.toml")
	if err := os.WriteFile(bad, []byte("[defaults]\nfrobnicate = 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"serve"}, ExitUsage, "ghmicons: serve: --config FILE is required (see ghmicons serve --help)\n"},
		{[]string{"serve", "--config", bad}, ExitUsage, "ghmicons: " + bad + ":2: unknown key \"defaults.frobnicate\"\n"},
		{[]string{"serve", "--config", filepath.Join(dir, "none.toml")}, ExitUsage, "no such file"},
		{[]string{"serve", "--config", bad, "extra"}, ExitUsage, `unexpected argument "extra"`},
		{[]string{"serve", "--bogus"}, ExitUsage, "unknown flag: --bogus"},
		{[]string{"serve", "--help"}, ExitOK, "ghmicons serve --config FILE [--listen ADDR:PORT] [--host-key FILE]"},
	} {
		stderr, err := os.CreateTemp(dir, "stderr")
		if err != nil {
			t.Fatal(err)
		}
		code := Run(c.args, Env{Stdin: os.Stdin, Stdout: stderr, Stderr: stderr, Getenv: func(string) (string, bool) { return "", false }})
		b, _ := os.ReadFile(stderr.Name())
		stderr.Close()
		if code != c.code || !strings.Contains(string(b), c.want) {
			t.Errorf("%q: exit %d, stderr %q; want %d and %q", c.args, code, b, c.code, c.want)
		}
		if c.code != ExitOK && strings.Count(string(b), "\n") != 1 {
			t.Errorf("%q: not one line: %q", c.args, b)
		}
	}
}
