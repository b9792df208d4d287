package expect

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/ghmicons/ghmicons/pkg/command"
)

// Bounds of a script's durations: a value outside them is an error, never
// clamped.
const (
	MinTimeout = time.Second
	MaxTimeout = 24 * time.Hour
	MaxDelay   = time.Hour
	// MaxScript bounds a script file.
	MaxScript = 1 << 20
)

// Kind is what a step does.
type Kind int

// Kinds of steps.
const (
	Send    Kind = iota + 1 // write Text to the console
	Expect                  // wait for Regexp in the output
	Delay                   // wait Duration
	Print                   // write Text and a newline to Env.Print
	Command                 // run Call, a command of the table (pkg/command)
	Timeout                 // Duration is the default wait of the expects after it
)

func (k Kind) String() string {
	switch k {
	case Send:
		return "send"
	case Expect:
		return "expect"
	case Delay:
		return "delay"
	case Print:
		return "print"
	case Command:
		return "command"
	case Timeout:
		return "timeout"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// keywords are the script's own statements; every other first word is a
// command of the table.
var keywords = map[string]Kind{"send": Send, "expect": Expect, "delay": Delay, "print": Print, "timeout": Timeout}

// Step is one statement.
type Step struct {
	Kind Kind
	// Where names the statement in errors: "FILE:LINE", or the flag.
	Where string
	Text  Text           // Send, Print
	Re    *regexp.Regexp // Expect
	// Duration: Delay's wait; Timeout's default; an Expect's own bound (0:
	// the default in force).
	Duration time.Duration
	Call     *command.Call // Command
}

// String is the step as a script line.
func (s Step) String() string {
	switch s.Kind {
	case Send, Print:
		return fmt.Sprintf(`%s "%s"`, s.Kind, s.Text.String())
	case Expect:
		if s.Duration > 0 {
			return fmt.Sprintf("expect %s timeout %v", slashed(s.Re.String()), s.Duration)
		}
		return "expect " + slashed(s.Re.String())
	case Delay, Timeout:
		return fmt.Sprintf("%s %v", s.Kind, s.Duration)
	case Command:
		return s.Call.String()
	}
	return s.Kind.String()
}

// slashed writes a pattern between slashes, as a script does.
func slashed(re string) string { return "/" + strings.ReplaceAll(re, "/", `\/`) + "/" }

// Script is a checked list of steps.
type Script struct {
	Steps []Step
}

// ParseError is a script that does not parse or does not check.
type ParseError struct {
	Where string // FILE:LINE or the flag
	Msg   string
}

func (e *ParseError) Error() string { return e.Where + ": " + e.Msg }

// Parse reads a script; name names it in errors (FILE:LINE).
func Parse(name string, src []byte) (*Script, error) {
	if len(src) > MaxScript {
		return nil, &ParseError{Where: name, Msg: fmt.Sprintf("%d bytes; a script is at most %d", len(src), MaxScript)}
	}
	var steps []Step
	for i, line := range strings.Split(string(src), "\n") {
		where := fmt.Sprintf("%s:%d", name, i+1)
		st, ok, err := parseLine(strings.TrimSuffix(line, "\r"))
		if err != nil {
			return nil, &ParseError{Where: where, Msg: err.Error()}
		}
		if ok {
			st.Where = where
			steps = append(steps, st)
		}
	}
	return New(steps)
}

// New checks steps made elsewhere (the program's --send and --expect) as
// Parse checks a script's: every reference to a capture names a group of
// an earlier expect.
func New(steps []Step) (*Script, error) {
	named := map[string]bool{}
	groups := -1 // the latest expect's group count; -1 before the first
	for _, st := range steps {
		switch st.Kind {
		case Send, Print:
			for _, ref := range st.Text.refs() {
				if err := checkRef(ref, named, groups); err != nil {
					return nil, &ParseError{Where: st.Where, Msg: err.Error()}
				}
			}
		case Expect:
			if st.Re == nil {
				return nil, &ParseError{Where: st.Where, Msg: "expect without a pattern"}
			}
			groups = st.Re.NumSubexp()
			for _, n := range st.Re.SubexpNames() {
				if n != "" {
					named[n] = true
				}
			}
		case Command:
			if st.Call == nil {
				return nil, &ParseError{Where: st.Where, Msg: "command without a call"}
			}
		}
	}
	return &Script{Steps: steps}, nil
}

func checkRef(ref string, named map[string]bool, groups int) error {
	switch {
	case strings.HasPrefix(ref, envPrefix):
		return nil
	case isNumber(ref):
		if groups < 0 {
			return fmt.Errorf("$%s: no expect before this one to capture it", ref)
		}
		if n, _ := strconv.Atoi(ref); n > groups {
			return fmt.Errorf("$%s: the expect before has %d group(s)", ref, groups)
		}
	case !named[ref]:
		return fmt.Errorf("${%s}: no expect before this one has a group (?P<%s>…)", ref, ref)
	}
	return nil
}

// Env lists the environment variables the script's texts use, so that a
// program can refuse to start when one is not set.
func (s *Script) Env() []string {
	var out []string
	seen := map[string]bool{}
	for _, st := range s.Steps {
		for _, ref := range st.Text.refs() {
			if name, ok := strings.CutPrefix(ref, envPrefix); ok && !seen[name] {
				seen[name] = true
				out = append(out, name)
			}
		}
	}
	return out
}

// NewSend is a send step of text in ParseText's syntax (a --send value).
func NewSend(where, text string) (Step, error) { return newText(Send, where, text) }

// NewPrint is a print step of text in ParseText's syntax (a --print value).
func NewPrint(where, text string) (Step, error) { return newText(Print, where, text) }

func newText(kind Kind, where, text string) (Step, error) {
	t, err := ParseText(text)
	if err != nil {
		return Step{}, &ParseError{Where: where, Msg: err.Error()}
	}
	return Step{Kind: kind, Where: where, Text: t}, nil
}

// NewExpect is an expect step of a pattern (a --expect value), bounded by
// timeout (0: the default in force).
func NewExpect(where, pattern string, timeout time.Duration) (Step, error) {
	re, err := compile(pattern)
	if err == nil {
		err = checkTimeout(timeout, true)
	}
	if err != nil {
		return Step{}, &ParseError{Where: where, Msg: err.Error()}
	}
	return Step{Kind: Expect, Where: where, Re: re, Duration: timeout}, nil
}

// NewCommand is a step that runs a command of the table.
func NewCommand(where string, call *command.Call) Step {
	return Step{Kind: Command, Where: where, Call: call}
}

func compile(pattern string) (*regexp.Regexp, error) {
	if pattern == "" {
		return nil, errors.New("an empty pattern matches at once: give what to wait for")
	}
	re, err := regexp.Compile(pattern)
	if err != nil {
		return nil, fmt.Errorf("pattern %s: %v", slashed(pattern), strings.TrimPrefix(err.Error(), "error parsing regexp: "))
	}
	if re.MatchString("") {
		return nil, fmt.Errorf("pattern %s matches the empty text, so it would match at once", slashed(pattern))
	}
	return re, nil
}

// checkTimeout checks an expect's bound (zeroOK: 0 means the default).
func checkTimeout(d time.Duration, zeroOK bool) error {
	if d == 0 && zeroOK {
		return nil
	}
	if d < MinTimeout || d > MaxTimeout {
		return fmt.Errorf("timeout %v: give %v to %v", d, MinTimeout, MaxTimeout)
	}
	return nil
}

// ---- the lines ----

// parseLine reads one line; ok is false for a blank or comment line.
func parseLine(line string) (st Step, ok bool, err error) {
	sc := &scanner{s: line}
	word := sc.word()
	if word == "" {
		if !sc.end() {
			return st, false, fmt.Errorf("a line starts with a statement (send, expect, delay, timeout, print) or a command (%s), not %q",
				command.Summary(command.Prompt), first(sc.rest()))
		}
		return st, false, nil
	}
	kind, isKeyword := keywords[strings.ToLower(word)]
	if !isKeyword {
		return parseCommand(word, sc)
	}
	st.Kind = kind
	switch kind {
	case Send, Print:
		s, err := sc.quoted()
		if err != nil {
			return st, false, fmt.Errorf("%s: %v", kind, err)
		}
		if st.Text, err = ParseText(s); err != nil {
			return st, false, fmt.Errorf("%s: %v", kind, err)
		}
	case Expect:
		pat, err := sc.regex()
		if err != nil {
			return st, false, fmt.Errorf("expect: %v", err)
		}
		if st.Re, err = compile(pat); err != nil {
			return st, false, fmt.Errorf("expect: %v", err)
		}
		if w := sc.word(); w != "" {
			if !strings.EqualFold(w, "timeout") {
				return st, false, fmt.Errorf("expect %s: then %q? (want: timeout DURATION, or the end of the line)", slashed(pat), w)
			}
			if st.Duration, err = sc.duration(); err != nil {
				return st, false, fmt.Errorf("expect %s timeout: %v", slashed(pat), err)
			}
			if err := checkTimeout(st.Duration, false); err != nil {
				return st, false, fmt.Errorf("expect %s: %v", slashed(pat), err)
			}
		}
	case Delay:
		if st.Duration, err = sc.duration(); err != nil {
			return st, false, fmt.Errorf("delay: %v", err)
		}
		if st.Duration <= 0 || st.Duration > MaxDelay {
			return st, false, fmt.Errorf("delay %v: give more than 0 and at most %v", st.Duration, MaxDelay)
		}
	case Timeout:
		if st.Duration, err = sc.duration(); err != nil {
			return st, false, fmt.Errorf("timeout: %v", err)
		}
		if err := checkTimeout(st.Duration, false); err != nil {
			return st, false, err
		}
	}
	if !sc.end() {
		return st, false, fmt.Errorf("%s: %q after the statement (a comment starts with #)", kind, first(sc.rest()))
	}
	return st, true, nil
}

// parseCommand reads a line of the command table (power cycle, bootdev
// pxe): its own parser, never a second one here.
func parseCommand(word string, sc *scanner) (Step, bool, error) {
	if command.Lookup(command.Prompt, word) == nil {
		return Step{}, false, fmt.Errorf("unknown statement %q (want send, expect, delay, timeout, print, or a command: %s)",
			word, command.Summary(command.Prompt))
	}
	words := []string{word}
	for w := sc.word(); w != ""; w = sc.word() {
		words = append(words, w)
	}
	if !sc.end() {
		return Step{}, false, fmt.Errorf("%s: %q: a command's words are plain words", word, first(sc.rest()))
	}
	call, err := command.Parse(command.Prompt, words)
	if err != nil {
		var ue *command.UsageError
		if errors.As(err, &ue) {
			return Step{}, false, errors.New(ue.Msg)
		}
		return Step{}, false, err
	}
	return Step{Kind: Command, Call: call}, true, nil
}

func first(s string) string {
	if f := strings.Fields(s); len(f) > 0 {
		return f[0]
	}
	return s
}

// scanner splits a line into words, one quoted string or pattern, and a
// comment.
type scanner struct {
	s string
	i int
}

func (sc *scanner) skipSpace() {
	for sc.i < len(sc.s) && (sc.s[sc.i] == ' ' || sc.s[sc.i] == '\t') {
		sc.i++
	}
}

// end reports whether only blanks and a comment are left.
func (sc *scanner) end() bool {
	sc.skipSpace()
	return sc.i >= len(sc.s) || sc.s[sc.i] == '#'
}

func (sc *scanner) rest() string {
	sc.skipSpace()
	return sc.s[sc.i:]
}

// word reads a plain word: letters, digits and . _ - : , + (a duration, a
// command's argument); "" if the next thing is no word.
func (sc *scanner) word() string {
	if sc.end() {
		return ""
	}
	start := sc.i
	for sc.i < len(sc.s) && isWordByte(sc.s[sc.i]) {
		sc.i++
	}
	return sc.s[start:sc.i]
}

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("._-:,+", c) >= 0
}

func (sc *scanner) duration() (time.Duration, error) {
	w := sc.word()
	if w == "" {
		return 0, errors.New("give a duration, as in 30s, 2m or 500ms")
	}
	d, err := time.ParseDuration(w)
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration (as in 30s, 2m or 500ms)", w)
	}
	return d, nil
}

// quoted reads "…", returning what is between the quotes, escapes as
// written (ParseText reads them).
func (sc *scanner) quoted() (string, error) {
	return sc.delimited('"', `a string in double quotes, as in "root\r"`)
}

// regex reads /…/; \/ in it is a slash.
func (sc *scanner) regex() (string, error) {
	s, err := sc.delimited('/', "a pattern between slashes, as in /login: $/")
	if err != nil {
		return "", err
	}
	return unescapeSlashes(s), nil
}

// unescapeSlashes turns \/ into /, leaving every other escape to the
// regular expression (so \\/ stays a backslash, then a slash).
func unescapeSlashes(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			if s[i+1] != '/' {
				b.WriteByte('\\')
			}
			b.WriteByte(s[i+1])
			i++
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func (sc *scanner) delimited(q byte, want string) (string, error) {
	sc.skipSpace()
	if sc.i >= len(sc.s) || sc.s[sc.i] != q {
		return "", errors.New("give " + want)
	}
	start := sc.i + 1
	for j := start; j < len(sc.s); j++ {
		switch sc.s[j] {
		case '\\':
			j++
		case q:
			sc.i = j + 1
			return sc.s[start:j], nil
		}
	}
	return "", fmt.Errorf("no closing %c: give %s", q, want)
}
