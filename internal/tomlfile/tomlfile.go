// Package tomlfile decodes the project's TOML configuration files (the rack
// of fakebmc, the consoles of ghmicons serve) strictly: a key the target does
// not have is an error, and errors carry the line they are on, so that each
// program can say "FILE:LINE: …" in its own words.
package tomlfile

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/BurntSushi/toml"
)

// Error is a decoding error: a syntax or type error (Msg), or a key the
// target has no field for (Key). Line is 0 when it is not known.
type Error struct {
	Line int
	Key  toml.Key // set for an unknown key
	Msg  string   // set otherwise
	Err  error    // the decoder's error, if any
}

func (e *Error) Error() string {
	if e.Key != nil {
		return fmt.Sprintf("line %d: unknown key %s", e.Line, e.Key)
	}
	return e.Msg
}

func (e *Error) Unwrap() error { return e.Err }

// Decode decodes data into v; every error is an *Error.
func Decode(data []byte, v any) error {
	md, err := toml.Decode(string(data), v)
	if err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			return &Error{Line: pe.Position.Line, Msg: pe.Message, Err: err}
		}
		return &Error{Msg: err.Error(), Err: err}
	}
	if und := md.Undecoded(); len(und) > 0 {
		k := und[0]
		return &Error{Line: keyLine(data, k[len(k)-1]), Key: k}
	}
	return nil
}

// keyLine finds the line of an unknown key (the decoder does not say): the
// first line that assigns it, or names it in a table header or a dotted key.
func keyLine(data []byte, key string) int {
	re := regexp.MustCompile(`^\s*(\[+\s*)?("?)` + regexp.QuoteMeta(key) + `("?)\s*(=|\]|\.)`)
	for i, l := range strings.Split(string(data), "\n") {
		if re.MatchString(l) {
			return i + 1
		}
	}
	return 0
}
