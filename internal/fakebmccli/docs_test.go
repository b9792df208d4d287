package fakebmccli

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/pflag"

	"github.com/ghmicons/ghmicons/internal/docgen"
)

// TestManPageUpToDate and TestCompletionUpToDate: the committed files are
// what fakebmc's flags and help texts generate now.
func TestManPageUpToDate(t *testing.T)    { checkUpToDate(t, "man/") }
func TestCompletionUpToDate(t *testing.T) { checkUpToDate(t, "completions/") }

func checkUpToDate(t *testing.T, prefix string) {
	files := map[string][]byte{}
	for name, b := range Docs() {
		if strings.HasPrefix(name, prefix) {
			files[name] = b
		}
	}
	if len(files) == 0 {
		t.Fatalf("Docs has no file under %s", prefix)
	}
	for _, name := range docgen.Stale(filepath.Join("..", ".."), files) {
		t.Errorf("%s is out of date with fakebmc's flags or help texts: run go generate ./... (internal/tools/gendocs) and commit it", name)
	}
}

func flat(s string) string { return strings.Join(strings.Fields(s), " ") }

// TestHelp: --help is the summary, the flags and the hook rules, and the
// man page has each of them.
func TestHelp(t *testing.T) {
	var out strings.Builder
	if err := Run([]string{"--help"}, &out); !errors.Is(err, pflag.ErrHelp) {
		t.Fatalf("--help: %v, want pflag.ErrHelp", err)
	}
	help := out.String()
	want := "Usage: fakebmc [flags]\n\n" + Summary + "\n\n" + FlagSet().FlagUsages() + "\n" + hooksHelp
	if help != want {
		t.Errorf("--help:\n%s\nwant:\n%s", help, want)
	}
	man := flat(string(ManPage()))
	for _, f := range docgen.Flags(FlagSet()) {
		for _, w := range []string{`\fB\-\-` + docgen.Escape(f.Long) + `\fR`, flat(docgen.Escape(f.Usage))} {
			if !strings.Contains(man, w) {
				t.Errorf("--%s: the man page lacks %q", f.Long, w)
			}
		}
	}
	if !strings.Contains(man, flat(docgen.Escape(hooksHelp))) {
		t.Error("the man page lacks the hook rules of --help")
	}
}

// TestRunRefusesBadInput: errors a user can make come back from Run
// before anything is served.
func TestRunRefusesBadInput(t *testing.T) {
	for _, args := range [][]string{
		{"extra"}, {"--bogus"}, {"--cipher-suites", "4"}, {"--extra-user", "nopassword"},
		{"--hook-timeout", "0s"}, {"--serial", "nonsense"}, {"--kg-hex", "xyz"},
	} {
		if err := Run(append(args, "--listen", "127.0.0.1:0"), &strings.Builder{}); err == nil || errors.Is(err, pflag.ErrHelp) {
			t.Errorf("%q: %v, want an error", args, err)
		}
	}
}

func TestCompletionScriptsParse(t *testing.T) {
	for shell, name := range map[string]string{"bash": "completions/bash/fakebmc", "zsh": "completions/zsh/_fakebmc"} {
		if _, err := exec.LookPath(shell); err != nil {
			t.Logf("%s not installed: not checked", shell)
			continue
		}
		f := filepath.Join(t.TempDir(), "script")
		if err := os.WriteFile(f, Docs()[name], 0o644); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command(shell, "-n", f).CombinedOutput(); err != nil {
			t.Errorf("%s -n %s: %v\n%s", shell, name, err, out)
		}
	}
}
