// Package hostlist reads and writes hostlists in the syntax of pdsh,
// FreeIPMI and powerman: "node[01-64]-bmc,node[100-110]".
//
// A hostlist is hosts separated by commas (or white space). A host may hold
// ranges in brackets, each a comma list of numbers and from-to ranges
// ("n[1,3,5-7]"); a host with several brackets stands for every
// combination ("r[1-2]n[1-3]", six hosts). A range keeps the zero padding of
// its lower bound: "n[08-10]" is n08, n09, n10. Brackets holding a colon
// or a dot are an address, not a range ("[fe80::1%eth0]:623"), so that host:port
// and [IPv6]:port entries are hosts like any other, and a range may give
// the port: "10.0.0.1:[28000-28255]".
//
// Expand turns a hostlist into hosts, bounded by a limit (a typo like
// "n[1-1000000000]" is an error, not a billion hosts); Compress turns hosts
// back into the shortest hostlist of ranges, as powerman prints them. Both
// are pure: no name is resolved.
package hostlist

import (
	"bufio"
	"cmp"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
)

// DefaultLimit is the most hosts Expand returns: a list longer than this
// is a mistake, not a cluster.
const DefaultLimit = 1 << 16

// maxDigits bounds a range's numbers so that they fit an int64 with room.
const maxDigits = 18

// Error is a hostlist that does not parse or is too long. Its text quotes
// the list and says what is wrong.
type Error struct {
	List string // the hostlist as given
	Msg  string
}

func (e *Error) Error() string { return fmt.Sprintf("hostlist %q: %s", e.List, e.Msg) }

// IsList reports whether s uses hostlist syntax: more than one host, or a
// range. A single host, host:port or [IPv6]:port is not a list.
func IsList(s string) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '[':
			end := strings.IndexByte(s[i+1:], ']')
			if end < 0 {
				return false
			}
			if isRange(s[i+1 : i+1+end]) {
				return true
			}
			i += 1 + end
		case c == ',' || isSpace(rune(c)):
			return true
		}
	}
	return false
}

// isAddress: brackets holding an address ("[fe80::1%eth0]", "[10.0.0.5]"),
// not a range: a colon or a dot, which no range has.
func isAddress(body string) bool { return strings.ContainsAny(body, ":.") }

// isRange: brackets of digits, commas and dashes only.
func isRange(body string) bool {
	return body != "" && strings.Trim(body, "0123456789,-") == ""
}

// Expand returns the hosts of list in order, each once (the first time it
// appears), at most DefaultLimit of them.
func Expand(list string) ([]string, error) { return ExpandLimit(list, DefaultLimit) }

// ExpandLimit is Expand with a limit of its own.
func ExpandLimit(list string, limit int) ([]string, error) {
	entries, err := parse(list)
	if err != nil {
		return nil, err
	}
	total := 0
	for _, e := range entries {
		n := e.count(limit + 1)
		total += n
		if total > limit {
			return nil, &Error{list, fmt.Sprintf("more than %d hosts (is a range too wide?)", limit)}
		}
	}
	hosts := make([]string, 0, total)
	seen := make(map[string]bool, total)
	for _, e := range entries {
		e.expand("", func(h string) {
			if !seen[h] {
				seen[h] = true
				hosts = append(hosts, h)
			}
		})
	}
	if len(hosts) == 0 {
		return nil, &Error{list, "no hosts"}
	}
	return hosts, nil
}

// Read reads a file of hosts: one hostlist a line (usually one host),
// blank lines and # comments ignored. name is the file's name for
// messages, which give its line number.
func Read(r io.Reader, name string, limit int) ([]string, error) {
	var hosts []string
	seen := map[string]bool{}
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line, _, _ := strings.Cut(sc.Text(), "#")
		if strings.TrimSpace(line) == "" {
			continue
		}
		hs, err := ExpandLimit(line, limit)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", name, n, err)
		}
		for _, h := range hs {
			if !seen[h] {
				seen[h] = true
				hosts = append(hosts, h)
			}
		}
		if len(hosts) > limit {
			return nil, fmt.Errorf("%s:%d: more than %d hosts", name, n, limit)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(hosts) == 0 {
		return nil, fmt.Errorf("%s: no hosts", name)
	}
	return hosts, nil
}

// An entry is one host of the list: literal text and ranges, in turn.
type entry []part

// A part is literal text (ranges nil) or a bracket of ranges.
type part struct {
	text   string
	ranges []span
}

// A span is lo..hi, printed zero-padded to width digits.
type span struct {
	lo, hi int64
	width  int
}

func (s span) len() int64 { return s.hi - s.lo + 1 }

func (p part) count() int64 {
	if p.ranges == nil {
		return 1
	}
	var n int64
	for _, s := range p.ranges {
		n += s.len()
	}
	return n
}

// count is the number of hosts e stands for, or ceiling if more.
func (e entry) count(ceiling int) int {
	n := int64(1)
	for _, p := range e {
		n *= p.count()
		if n > int64(ceiling) {
			return ceiling
		}
	}
	return int(n)
}

func (e entry) expand(prefix string, emit func(string)) {
	if len(e) == 0 {
		emit(prefix)
		return
	}
	p, rest := e[0], e[1:]
	if p.ranges == nil {
		rest.expand(prefix+p.text, emit)
		return
	}
	for _, s := range p.ranges {
		for v := s.lo; v <= s.hi; v++ {
			rest.expand(prefix+pad(v, s.width), emit)
		}
	}
}

func pad(v int64, width int) string {
	s := strconv.FormatInt(v, 10)
	if len(s) < width {
		s = strings.Repeat("0", width-len(s)) + s
	}
	return s
}

func isSpace(r rune) bool { return r == ' ' || r == '\t' || r == '\n' || r == '\r' }

// parse splits list into entries at commas and white space outside
// brackets and reads each.
func parse(list string) ([]entry, error) {
	fail := func(format string, args ...any) ([]entry, error) {
		return nil, &Error{list, fmt.Sprintf(format, args...)}
	}
	var entries []entry
	var cur entry
	var lit strings.Builder
	sawSep := false
	flush := func() {
		if lit.Len() > 0 {
			cur = append(cur, part{text: lit.String()})
			lit.Reset()
		}
	}
	endEntry := func() bool {
		flush()
		if len(cur) == 0 {
			return false
		}
		entries = append(entries, cur)
		cur = nil
		return true
	}
	for i := 0; i < len(list); i++ {
		c := list[i]
		switch {
		case c == ',':
			if !endEntry() {
				return fail("empty host before the comma at %d", i+1)
			}
			sawSep = true
		case isSpace(rune(c)):
			endEntry()
		case c == ']':
			return fail("] at %d without [", i+1)
		case c == '[':
			end := strings.IndexAny(list[i+1:], "[]")
			if end < 0 || list[i+1+end] == '[' {
				return fail("[ at %d without ]", i+1)
			}
			body := list[i+1 : i+1+end]
			if isAddress(body) {
				lit.WriteString(list[i : i+2+end])
			} else {
				ranges, err := parseRanges(body)
				if err != nil {
					return fail("[%s]: %s", body, err)
				}
				flush()
				cur = append(cur, part{ranges: ranges})
			}
			i += 1 + end
		case c < ' ' || c == 0x7f:
			return fail("control character %q at %d", c, i+1)
		default:
			lit.WriteByte(c)
		}
	}
	if !endEntry() && sawSep {
		return fail("empty host after the last comma")
	}
	if len(entries) == 0 {
		return fail("no hosts")
	}
	return entries, nil
}

// parseRanges reads the inside of a bracket: "1,3,5-7", "01-64".
func parseRanges(body string) ([]span, error) {
	if body == "" {
		return nil, fmt.Errorf("empty range")
	}
	var spans []span
	for _, item := range strings.Split(body, ",") {
		loS, hiS, isRange := strings.Cut(item, "-")
		if !isRange {
			hiS = loS
		}
		lo, err := number(loS)
		if err != nil {
			return nil, err
		}
		hi, err := number(hiS)
		if err != nil {
			return nil, err
		}
		if hi < lo {
			return nil, fmt.Errorf("%s counts down: write %s-%s", item, hiS, loS)
		}
		spans = append(spans, span{lo: lo, hi: hi, width: len(loS)})
	}
	return spans, nil
}

func number(s string) (int64, error) {
	switch {
	case s == "":
		return 0, fmt.Errorf("a range needs numbers on both sides of -, and between commas")
	case len(s) > maxDigits:
		return 0, fmt.Errorf("%s: at most %d digits", s, maxDigits)
	}
	for i := range len(s) {
		if !isDigit(s[i]) {
			return 0, fmt.Errorf("%q is not a number (ranges are digits, e.g. [1-4,7])", s)
		}
	}
	return strconv.ParseInt(s, 10, 64)
}

// Compress returns the hosts as a hostlist of ranges over each host's last
// number, as powerman and pdsh print them: "node[01-03,07],login1". Hosts
// that differ only in that number share a bracket, in order of value;
// groups keep the order in which they first appear; a duplicate is
// dropped. Expand(Compress(hosts)) is the same set of hosts.
func Compress(hosts []string) string {
	type num struct {
		v      int64
		digits string
	}
	type group struct {
		prefix, suffix string
		nums           []num
		literal        bool
	}
	var groups []*group
	index := map[[2]string]*group{}
	seen := map[string]bool{}
	for _, h := range hosts {
		if seen[h] {
			continue
		}
		seen[h] = true
		prefix, digits, suffix, ok := lastNumber(h)
		if !ok {
			groups = append(groups, &group{prefix: h, literal: true})
			continue
		}
		key := [2]string{prefix, suffix}
		g := index[key]
		if g == nil {
			g = &group{prefix: prefix, suffix: suffix}
			index[key] = g
			groups = append(groups, g)
		}
		v, _ := strconv.ParseInt(digits, 10, 64)
		g.nums = append(g.nums, num{v, digits})
	}
	var out []string
	for _, g := range groups {
		if g.literal {
			out = append(out, g.prefix)
			continue
		}
		if len(g.nums) == 1 {
			out = append(out, g.prefix+g.nums[0].digits+g.suffix)
			continue
		}
		slices.SortFunc(g.nums, func(a, b num) int {
			return cmp.Or(cmp.Compare(a.v, b.v), strings.Compare(a.digits, b.digits))
		})
		var items []string
		used := make([]bool, len(g.nums))
		for i := range g.nums {
			if used[i] {
				continue
			}
			lo := g.nums[i]
			used[i] = true
			hi, width := lo, len(lo.digits)
			// Extend the run with the next value written at the same width.
			for j := i + 1; j < len(g.nums); j++ {
				if used[j] || g.nums[j].v == hi.v {
					continue
				}
				if g.nums[j].v != hi.v+1 {
					break
				}
				if g.nums[j].digits == pad(g.nums[j].v, width) {
					hi = g.nums[j]
					used[j] = true
				}
			}
			if hi == lo {
				items = append(items, lo.digits)
			} else {
				items = append(items, lo.digits+"-"+hi.digits)
			}
		}
		if len(items) == 1 && !strings.Contains(items[0], "-") {
			out = append(out, g.prefix+items[0]+g.suffix)
		} else {
			out = append(out, g.prefix+"["+strings.Join(items, ",")+"]"+g.suffix)
		}
	}
	return strings.Join(out, ",")
}

// lastNumber splits h at its last run of digits, if it has one short
// enough to count with.
func lastNumber(h string) (prefix, digits, suffix string, ok bool) {
	end := len(h)
	for end > 0 && !isDigit(h[end-1]) {
		end--
	}
	if end == 0 {
		return "", "", "", false
	}
	start := end
	for start > 0 && isDigit(h[start-1]) {
		start--
	}
	digits = h[start:end]
	// Digits inside an IPv6 address's brackets are not a range's.
	if len(digits) > maxDigits || strings.Count(h[:start], "[") > strings.Count(h[:start], "]") {
		return "", "", "", false
	}
	return h[:start], digits, h[end:], true
}

func isDigit(r byte) bool { return r >= '0' && r <= '9' }
