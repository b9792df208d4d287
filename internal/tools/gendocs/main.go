// Command gendocs writes the man pages and the bash and zsh completion of
// ghmicons and fakebmc into the repository, generated from the programs'
// flag definitions and help texts (internal/cli.Docs,
// internal/fakebmccli.Docs). Run it after changing a flag or a help text:
//
//	go generate ./...
//
// The tests of both programs fail while a committed file differs from what
// this writes.
package main

//go:generate go run . -root ../../..

import (
	"bytes"
	"flag"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"

	"github.com/ghmicons/ghmicons/internal/cli"
	"github.com/ghmicons/ghmicons/internal/fakebmccli"
)

func main() {
	root := flag.String("root", ".", "the repository's root directory")
	flag.Parse()
	files := cli.Docs()
	maps.Copy(files, fakebmccli.Docs())
	for _, name := range slices.Sorted(maps.Keys(files)) {
		path := filepath.Join(*root, filepath.FromSlash(name))
		if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, files[name]) {
			continue
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			fail(err)
		}
		if err := os.WriteFile(path, files[name], 0o644); err != nil {
			fail(err)
		}
		fmt.Println("gendocs: wrote", name)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "gendocs:", err)
	os.Exit(1)
}
