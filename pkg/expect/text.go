package expect

import (
	"fmt"
	"strconv"
	"strings"
)

// Text is a string of a send or print statement: literal parts and
// references to captures or environment variables, substituted when the
// statement runs.
type Text []part

type part struct {
	lit string
	ref string // "1" (a group of the latest match), "name", "env:NAME"; "" for a literal
}

// envPrefix marks a reference to an environment variable.
const envPrefix = "env:"

// String is the text as a script would write it, without the quotes.
func (t Text) String() string {
	var b strings.Builder
	for _, p := range t {
		if p.ref != "" {
			b.WriteString("${" + p.ref + "}")
			continue
		}
		for i := 0; i < len(p.lit); i++ {
			switch c := p.lit[i]; {
			case c == '\r':
				b.WriteString(`\r`)
			case c == '\n':
				b.WriteString(`\n`)
			case c == '\t':
				b.WriteString(`\t`)
			case c == '\\', c == '"', c == '$':
				b.WriteByte('\\')
				b.WriteByte(c)
			case c < 0x20 || c >= 0x7f:
				fmt.Fprintf(&b, `\x%02x`, c)
			default:
				b.WriteByte(c)
			}
		}
	}
	return b.String()
}

// refs lists the text's references.
func (t Text) refs() []string {
	var r []string
	for _, p := range t {
		if p.ref != "" {
			r = append(r, p.ref)
		}
	}
	return r
}

// expand substitutes the references.
func (t Text) expand(lookup func(ref string) string) string {
	var b strings.Builder
	for _, p := range t {
		if p.ref != "" {
			b.WriteString(lookup(p.ref))
		} else {
			b.WriteString(p.lit)
		}
	}
	return b.String()
}

// ParseText reads the inside of a quoted string (or a --send value): the
// escapes \r \n \t \e \\ \" \$ \xHH, and the references $N, ${N},
// ${name}, ${env:NAME}. A $ that starts no reference, and a \ that starts
// no escape, are errors: a script says what it means.
func ParseText(s string) (Text, error) {
	var t Text
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			t = append(t, part{lit: lit.String()})
			lit.Reset()
		}
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '\\':
			if i+1 >= len(s) {
				return nil, fmt.Errorf(`a \ at the end: write \\ for a backslash`)
			}
			i++
			switch e := s[i]; e {
			case 'r':
				lit.WriteByte('\r')
			case 'n':
				lit.WriteByte('\n')
			case 't':
				lit.WriteByte('\t')
			case 'e':
				lit.WriteByte(0x1b)
			case '\\', '"', '$', '/':
				lit.WriteByte(e)
			case 'x':
				if i+2 >= len(s) {
					return nil, fmt.Errorf(`\x needs two hex digits, as in \x03`)
				}
				v, err := strconv.ParseUint(s[i+1:i+3], 16, 8)
				if err != nil {
					return nil, fmt.Errorf(`\x needs two hex digits, as in \x03`)
				}
				lit.WriteByte(byte(v))
				i += 2
			default:
				return nil, fmt.Errorf(`unknown escape \%s (want \r \n \t \e \\ \" \$ or \xHH)`, printable(e))
			}
		case '$':
			ref, n, err := parseRef(s[i+1:])
			if err != nil {
				return nil, err
			}
			flush()
			t = append(t, part{ref: ref})
			i += n
		default:
			lit.WriteByte(c)
		}
	}
	flush()
	return t, nil
}

// parseRef reads a reference after its $: digits, or {…}. It returns the
// reference and the bytes it took.
func parseRef(s string) (string, int, error) {
	if s != "" && s[0] >= '0' && s[0] <= '9' {
		return s[:1], 1, nil // $1 … $9; ${12} for more
	}
	if s == "" || s[0] != '{' {
		return "", 0, fmt.Errorf(`a $ starts $1 … $9, ${name} or ${env:NAME} (write \$ for a dollar)`)
	}
	end := strings.IndexByte(s, '}')
	if end < 0 {
		return "", 0, fmt.Errorf("${ without its }")
	}
	ref := s[1:end]
	name := ref
	if env, ok := strings.CutPrefix(ref, envPrefix); ok {
		name = env
	}
	if !validName(name) {
		return "", 0, fmt.Errorf("${%s}: a name is letters, digits and _ (a group number, a group's name, or env:NAME)", ref)
	}
	if ref != name && name[0] >= '0' && name[0] <= '9' {
		return "", 0, fmt.Errorf("${%s}: an environment variable's name does not start with a digit", ref)
	}
	if isNumber(ref) {
		if _, err := strconv.Atoi(ref); err != nil || len(ref) > 3 {
			return "", 0, fmt.Errorf("${%s}: no such group number", ref)
		}
		ref = strings.TrimLeft(ref, "0")
		if ref == "" {
			ref = "0"
		}
	}
	return ref, end + 1, nil
}

func validName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

func isNumber(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

func printable(c byte) string {
	if c < 0x20 || c >= 0x7f {
		return fmt.Sprintf("x%02x", c)
	}
	return string(c)
}
