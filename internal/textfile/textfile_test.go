package textfile

import (
	"os"
	"path/filepath"
	"testing"
)

func TestFirstLine(t *testing.T) {
	dir := t.TempDir()
	for content, want := range map[string]string{"secret\nnext\n": "secret", "crlf\r\n": "crlf", "no newline": "no newline", "": ""} {
		p := filepath.Join(dir, "f")
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		if got, err := FirstLine(p); err != nil || got != want {
			t.Errorf("%q: %q %v", content, got, err)
		}
	}
	if _, err := FirstLine(filepath.Join(dir, "none")); err == nil {
		t.Error("a missing file read")
	}
}
