// Package textfile reads the small text files programs are given secrets
// in (a password file, a K_g file): the first line only.
package textfile

import (
	"bufio"
	"io"
	"os"
	"strings"
)

// FirstLine reads the first line of the file at path, without its line end.
func FirstLine(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	line, err := bufio.NewReader(f).ReadString('\n')
	if err != nil && err != io.EOF {
		return "", err
	}
	return strings.TrimRight(line, "\r\n"), nil
}
