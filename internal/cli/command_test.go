package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ghmicons/ghmicons/pkg/command"
)

// The README's table of commands says what the command table says: every
// usage line of every row, and no command the table does not have.
func TestReadmeCommands(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	readme := strings.ReplaceAll(string(b), `\|`, "|")
	_, rest, ok := strings.Cut(readme, "### Commands\n")
	if !ok {
		t.Fatal("README has no Commands section")
	}
	listed := map[string]bool{}
	inTable := false
	for _, line := range strings.Split(rest, "\n") {
		if !strings.HasPrefix(line, "|") {
			if inTable {
				break
			}
			continue
		}
		inTable = true
		if cell, ok := strings.CutPrefix(line, "| `"); ok {
			u, _, _ := strings.Cut(cell, "`")
			listed[u] = true
		}
	}
	for _, r := range command.Rows() {
		for _, u := range r.Usage {
			if !listed[u] {
				t.Errorf("README's Commands lacks `%s`", u)
			}
			delete(listed, u)
		}
	}
	for u := range listed {
		t.Errorf("README lists `%s`, which is not in the command table", u)
	}
}
