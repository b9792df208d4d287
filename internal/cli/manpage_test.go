package cli

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/ghmicons/ghmicons/internal/testenv"

	"github.com/ghmicons/ghmicons/internal/docgen"
)

// TestManPageUpToDate and TestCompletionUpToDate: the committed man page
// and completion scripts are what the flags and help texts generate now.
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
		t.Errorf("%s is out of date with the flags or help texts: run go generate ./... (internal/tools/gendocs) and commit it", name)
	}
}

func flat(s string) string { return strings.Join(strings.Fields(s), " ") }

// TestManPageHasEveryFlag: every flag of --help is in the man page with
// its value name and its text, default included, as --help shows them.
func TestManPageHasEveryFlag(t *testing.T) {
	man := flat(string(ManPage()))
	o, err := parseOptions(nil, &strings.Builder{})
	if err != nil {
		t.Fatal(err)
	}
	help := flat(o.fs.FlagUsages())
	n := 0
	for _, f := range docgen.Flags(o.fs) {
		n++
		if !strings.Contains(help, f.Usage) {
			t.Errorf("--%s: %q is not what --help says", f.Long, f.Usage)
		}
		for _, want := range []string{`\fB\-\-` + docgen.Escape(f.Long) + `\fR`, flat(docgen.Escape(f.Usage))} {
			if !strings.Contains(man, want) {
				t.Errorf("--%s: the man page lacks %q", f.Long, want)
			}
		}
	}
	if n < 30 {
		t.Errorf("only %d flags found", n)
	}
}

// TestHelpSharesManPageText: the texts --help prints are the man page's.
func TestHelpSharesManPageText(t *testing.T) {
	_, _, stderr := runInProcess(t, nil, "--help")
	for _, block := range []string{environmentHelp, exitCodesHelp, usageHead()} {
		if !strings.Contains(stderr, block) {
			t.Errorf("--help lacks the block starting %q", strings.SplitN(block, "\n", 2)[0])
		}
	}
	man := flat(string(ManPage()))
	for _, heading := range []string{"Environment:", "Exit codes:"} {
		text := environmentHelp
		if heading == "Exit codes:" {
			text = exitCodesHelp
		}
		list, _ := helpList(helpBlock(text, heading))
		if len(list) < 3 {
			t.Fatalf("%s: %d items parsed", heading, len(list))
		}
		for _, it := range list {
			if !strings.Contains(man, flat(docgen.Escape(it.Text))) {
				t.Errorf("the man page lacks %s %q", heading, it.Text)
			}
		}
	}
	escapes, _ := escapeList()
	if len(escapes) < 8 {
		t.Fatalf("%d escapes parsed from escape.HelpText", len(escapes))
	}
	for _, it := range escapes {
		if !strings.Contains(man, `\fB`+docgen.Escape(it.Term)+`\fR`) {
			t.Errorf("the man page lacks the escape %s", it.Term)
		}
	}
	forms, _ := helpList(helpBlock(usageHead(), "Usage:"))
	for _, f := range forms {
		words, _ := strings.CutPrefix(f.Term, "ghmicons ")
		if !strings.Contains(man, flat(docgen.Escape(words))) {
			t.Errorf("the man page's synopsis lacks %q", f.Term)
		}
	}
}

// TestCompletionScriptsParse: bash -n and zsh -n accept the scripts.
func TestCompletionScriptsParse(t *testing.T) {
	for shell, name := range map[string]string{"bash": "completions/bash/ghmicons", "zsh": "completions/zsh/_ghmicons"} {
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

// TestCompletionBash runs the bash completion function on command lines
// as bash splits them (at "=" too) and checks what it offers.
func TestCompletionBash(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		testenv.Missing(t, "bash not installed")
	}
	dir := t.TempDir()
	script := filepath.Join(dir, "ghmicons.bash")
	if err := os.WriteFile(script, Docs()["completions/bash/ghmicons"], 0o644); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"pw.txt", "kg.txt"} {
		if err := os.WriteFile(filepath.Join(dir, f), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		words []string // COMP_WORDS; the last is the word being completed
		want  []string
	}{
		{[]string{"ghmicons", "-L", ""}, []string{"callback", "user", "operator", "administrator"}},
		{[]string{"ghmicons", "--privilege", "=", "op"}, []string{"operator"}},
		{[]string{"ghmicons", "--priv"}, []string{"--privilege"}},
		{[]string{"ghmicons", "-C", ""}, []string{"1", "2", "3", "15", "16", "17"}},
		{[]string{"ghmicons", "-e", ""}, []string{`\~`, `\^\]`, "none"}},
		{[]string{"ghmicons", "--power", "c"}, []string{"cycle"}},
		{[]string{"ghmicons", "-H", "bmc1", "-U", "admin", ""}, []string{"power", "bootdev", "info"}},
		{[]string{"ghmicons", "-H", "bmc1", "power", ""}, []string{"on", "off", "cycle", "reset", "soft", "diag", "status"}},
		{[]string{"ghmicons", "POWER", "s"}, []string{"soft", "status"}},
		{[]string{"ghmicons", "-4E", "bootdev", "pxe", ""}, []string{"persistent", "efi"}},
		{[]string{"ghmicons", "bootdev", "pxe", "persistent", ""}, []string{"persistent", "efi"}},
		{[]string{"ghmicons", "bootdev", "p"}, []string{"pxe"}},
		{[]string{"ghmicons", "info", ""}, nil},
		{[]string{"ghmicons", "-U", ""}, nil},
		// -Uadmin holds its value; --log=x and --debug=x are one flag each.
		{[]string{"ghmicons", "-Uadmin", "--log", "=", "x", "--debug", "=", "y", ""}, []string{"power", "bootdev", "info"}},
		// --debug takes its file only after "=": the next word is a command.
		{[]string{"ghmicons", "--debug", "po"}, []string{"power"}},
		{[]string{"ghmicons", "--debug", "=", dir + "/p"}, []string{dir + "/pw.txt"}},
		{[]string{"ghmicons", "-f", dir + "/p"}, []string{dir + "/pw.txt"}},
		{[]string{"ghmicons", "--kg-file", "=", dir + "/k"}, []string{dir + "/kg.txt"}},
		{[]string{"ghmicons", "--", "-x", ""}, nil}, // -x is the command: unknown
	}
	for _, tt := range tests {
		var q []string
		for _, w := range tt.words {
			q = append(q, "'"+strings.ReplaceAll(w, "'", `'\''`)+"'")
		}
		prog := "source " + script + "; COMP_WORDS=(" + strings.Join(q, " ") + "); COMP_CWORD=" +
			strconv.Itoa(len(tt.words)-1) + "; _ghmicons; printf '%s\\n' \"${COMPREPLY[@]}\""
		out, err := exec.Command("bash", "--norc", "--noprofile", "-c", prog).CombinedOutput()
		if err != nil {
			t.Errorf("%q: %v\n%s", tt.words, err, out)
			continue
		}
		got := strings.Fields(string(out))
		if !slices.Equal(got, tt.want) && !(len(got) == 0 && len(tt.want) == 0) {
			t.Errorf("%q: offered %q, want %q", tt.words, got, tt.want)
		}
	}
}
