//go:build linux

// Command fleettool is the helper of the console-server benchmark
// (scripts/bench/fleet.sh). It plays the rack of BMCs and the measuring
// instruments, so that the shell script only starts and stops the servers
// under test:
//
//	fleettool rack --count 1000 --base 26000 --echo 27500 --state DIR/state
//	fleettool wait --dir DIR --count 1000 --timeout 120s
//	fleettool check --dir DIR --state DIR/state
//	fleettool usage --pid 123 --pid 456 --cpu-secs 60
//	fleettool pids --pid 123 --match /tmp/fleet-bench.X --exclude 456
//	fleettool first-byte --reps 20 --expect 'n0000 [0-9]+' -- ssh ...
//	fleettool keys --keys 50 -- ghmicons -H ...
//
// rack: N simulated BMCs in one fakebmc.Rack (what `fakebmc --count` runs)
// on consecutive UDP ports of 127.0.0.1, named n0000, n0001, ..., each with a
// host that writes a numbered line "NAME SEQ" every --interval (first line after a random part of the
// interval, so the rack does not print in bursts), and optionally one more
// BMC whose host echoes (for keystroke round trips). SIGUSR1 pauses the
// hosts (idle measurement), SIGUSR2 resumes them, SIGHUP stops them for good
// and writes "NAME LASTSEQ" for each to --state; SIGTERM exits.
//
// wait: polls DIR/NAME.log until every console's log holds one host line;
// prints the seconds since --since (Unix time, default now) when all have.
//
// check: the logs are complete when every console's numbered lines are
// consecutive (no gap, nothing twice) from the first one logged to the last
// line its host wrote (from --state).
//
// usage: RSS and PSS summed over the given processes and all their
// descendants, and their CPU time (utime+stime) over --cpu-secs as a share of
// one core.
//
// pids: the given processes and all their descendants, one PID a line (for
// stopping a server with every process it started); --match adds those
// whose command line contains a string (the run's work directory: what a
// server started and lost track of), --exclude leaves a tree out.
//
// first-byte: runs the command --reps times and reports the time from its
// start to the first output matching --expect (median, min, max).
//
// keys: runs the command once, with its standard input and output as pipes,
// sends single characters at typing pace, and reports the time until each is
// read back (median and 90th percentile).
package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/ghmicons/ghmicons/pkg/fakebmc"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: fleettool rack|wait|check|usage|pids|first-byte|keys|samples [flags]")
		os.Exit(2)
	}
	cmds := map[string]func([]string) error{
		"rack": rack, "wait": wait, "check": check, "usage": usage,
		"first-byte": firstByte, "keys": keys, "pids": pids, "samples": samples,
	}
	f, ok := cmds[os.Args[1]]
	if !ok {
		fmt.Fprintf(os.Stderr, "fleettool: unknown command %q\n", os.Args[1])
		os.Exit(2)
	}
	if err := f(os.Args[2:]); err != nil {
		fmt.Fprintf(os.Stderr, "fleettool %s: %v\n", os.Args[1], err)
		os.Exit(1)
	}
}

// Name is console i's name, in the rack and in every server's config.
func name(i int) string { return fmt.Sprintf("n%04d", i) }

// ticker is a host that writes numbered lines.
type ticker struct {
	name     string
	interval time.Duration
	paused   *atomic.Bool
	stop     chan struct{}
	last     atomic.Int64
	stopped  chan struct{}
}

func (t *ticker) Run(line *fakebmc.Line, done <-chan struct{}) {
	defer close(t.stopped)
	go func() { // discard console input
		buf := make([]byte, 512)
		for {
			if _, err := line.Read(buf); err != nil {
				return
			}
		}
	}()
	first := time.NewTimer(time.Duration(rand.Int64N(int64(t.interval))))
	select {
	case <-first.C:
	case <-done:
		return
	case <-t.stop:
		return
	}
	tick := time.NewTicker(t.interval)
	defer tick.Stop()
	for {
		if !t.paused.Load() {
			n := t.last.Load() + 1
			if _, err := fmt.Fprintf(line, "%s %d\r\n", t.name, n); err != nil {
				return
			}
			t.last.Store(n)
		}
		select {
		case <-tick.C:
		case <-done:
			return
		case <-t.stop:
			return
		}
	}
}

func rack(args []string) error {
	fs := flag.NewFlagSet("rack", flag.ExitOnError)
	count := fs.Int("count", 1000, "BMCs")
	base := fs.Int("base", 26000, "UDP port of the first BMC (on 127.0.0.1)")
	echo := fs.Int("echo", 0, "UDP port of one more BMC whose host echoes (0: none)")
	interval := fs.Duration("interval", time.Second, "each host writes a line this often")
	state := fs.String("state", "", "file for NAME LASTSEQ lines after SIGHUP")
	password := fs.String("password", "password", "password of user admin")
	if err := fs.Parse(args); err != nil {
		return err
	}
	users := []fakebmc.User{{Name: "admin", Password: []byte(*password)}}
	var paused atomic.Bool
	stop := make(chan struct{})
	var hosts []*ticker
	r := fakebmc.NewRack()
	defer r.Close()
	add := func(name string, port int, h fakebmc.Host) error {
		_, err := r.Add(fakebmc.RackBMC{
			Name:   name,
			Listen: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)),
			Config: fakebmc.Config{Users: users, SessionTimeout: 2 * time.Minute, SOL: fakebmc.SOLConfig{Host: h}},
		})
		return err
	}
	for i := 0; i < *count; i++ {
		t := &ticker{name: name(i), interval: *interval, paused: &paused, stop: stop, stopped: make(chan struct{})}
		hosts = append(hosts, t)
		if err := add(t.name, *base+i, t); err != nil {
			return err
		}
	}
	if *echo != 0 {
		if err := add("echo", *echo, fakebmc.EchoHost{}); err != nil {
			return err
		}
	}
	fmt.Printf("ready %d BMCs on 127.0.0.1:%d-%d\n", *count, *base, *base+*count-1)
	sig := make(chan os.Signal, 4)
	signal.Notify(sig, syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGHUP, syscall.SIGTERM, syscall.SIGINT)
	stopped := false
	for s := range sig {
		switch s {
		case syscall.SIGUSR1:
			paused.Store(true)
			fmt.Println("paused")
		case syscall.SIGUSR2:
			paused.Store(false)
			fmt.Println("resumed")
		case syscall.SIGHUP:
			if stopped {
				continue
			}
			stopped = true
			close(stop)
			var b strings.Builder
			for _, h := range hosts {
				<-h.stopped
				fmt.Fprintf(&b, "%s %d\n", h.name, h.last.Load())
			}
			if *state != "" {
				if err := os.WriteFile(*state+".tmp", []byte(b.String()), 0o644); err != nil {
					return err
				}
				if err := os.Rename(*state+".tmp", *state); err != nil {
					return err
				}
			}
			fmt.Println("stopped")
		default:
			return nil
		}
	}
	return nil
}

var (
	hostLine  = regexp.MustCompile(`\b(n[0-9]{4}) ([0-9]+)\b`)
	hostWhole = regexp.MustCompile(`^n[0-9]{4} [0-9]+$`)
	hostInRun = regexp.MustCompile(`(n[0-9]{4}) ([0-9]+)`)
)

// note reports whether a log line is the server's own (a connect or loss
// note, a banner): ghmicons and serve write "[ghmicons] ...", conserver
// "[-- ... --]", conman "<ConMan> ...". Host lines start with their name.
func note(l string) bool { return strings.HasPrefix(l, "[") || strings.HasPrefix(l, "<") }

// hostText is a log without the server's notes and without line breaks:
// a host line that a note interrupted (a server that ends the partial line
// before its note) is whole again, and consecutive host lines run together
// ("n0001 7n0001 8"), which hostInRun still tells apart.
func hostText(ls []string) (text string, notes, connects, fragments int) {
	var b strings.Builder
	for _, l := range ls {
		l = strings.Trim(l, "\r")
		switch {
		case l == "":
		case note(l):
			notes++
			if strings.Contains(l, "connected to") {
				connects++
			}
		default:
			if !hostWhole.MatchString(l) {
				fragments++
			}
			b.WriteString(l)
		}
	}
	return b.String(), notes, connects, fragments
}

// tail reads what a file gained since the last call.
type tail struct {
	path string
	off  int64
	rest []byte // an unfinished last line
}

func (t *tail) lines() ([]string, error) {
	f, err := os.Open(t.path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if _, err := f.Seek(t.off, io.SeekStart); err != nil {
		return nil, err
	}
	b, err := io.ReadAll(f)
	if err != nil {
		return nil, err
	}
	t.off += int64(len(b))
	b = append(t.rest, b...)
	i := bytes.LastIndexByte(b, '\n')
	if i < 0 {
		t.rest = b
		return nil, nil
	}
	t.rest = append([]byte(nil), b[i+1:]...)
	return strings.Split(string(b[:i]), "\n"), nil
}

func wait(args []string) error {
	fs := flag.NewFlagSet("wait", flag.ExitOnError)
	dir := fs.String("dir", "", "directory of the NAME.log files")
	count := fs.Int("count", 1000, "consoles")
	timeout := fs.Duration("timeout", 120*time.Second, "give up after this long")
	since := fs.Float64("since", 0, "start time (Unix seconds) the result is counted from; 0: now")
	if err := fs.Parse(args); err != nil {
		return err
	}
	start := time.Now()
	if *since > 0 {
		start = time.Unix(0, int64(*since*1e9))
	}
	tails := make([]*tail, *count)
	seen := make([]bool, *count)
	for i := range tails {
		tails[i] = &tail{path: filepath.Join(*dir, name(i)+".log")}
	}
	left := *count
	deadline := time.Now().Add(*timeout)
	var half time.Duration
	for {
		for i, t := range tails {
			if seen[i] {
				continue
			}
			ls, err := t.lines()
			if err != nil {
				return err
			}
			for _, l := range ls {
				if m := hostLine.FindStringSubmatch(l); m != nil && m[1] == name(i) {
					seen[i] = true
					left--
					if left <= *count/2 && half == 0 {
						half = time.Since(start)
					}
					break
				}
			}
		}
		if left == 0 {
			fmt.Printf("all %d consoles logging after %.2f s (half after %.2f s)\n", *count, time.Since(start).Seconds(), half.Seconds())
			return nil
		}
		if time.Now().After(deadline) {
			var miss []string
			for i := range seen {
				if !seen[i] && len(miss) < 10 {
					miss = append(miss, name(i))
				}
			}
			return fmt.Errorf("after %v, %d of %d consoles have logged nothing from their host (e.g. %s)", *timeout, left, *count, strings.Join(miss, " "))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// logCheck is what one console's log holds.
type logCheck struct {
	lines, gaps, dups, foreign, connects, fragments int
	first, last                                     int      // numbers of the first and last host lines logged
	problems                                        []string // what makes it incomplete
}

// checkLog checks the lines of console n's log against the last number its
// host wrote: complete when its host lines run from the first logged to
// wrote, each once, none of another console.
func checkLog(n string, ls []string, wrote int) logCheck {
	var r logCheck
	text, _, c, f := hostText(ls)
	r.connects, r.fragments = c, f
	for _, m := range hostInRun.FindAllStringSubmatch(text, -1) {
		if m[1] != n {
			r.foreign++
			r.problems = append(r.problems, fmt.Sprintf("line of %s in its log", m[1]))
			continue
		}
		s, _ := strconv.Atoi(m[2])
		r.lines++
		switch {
		case r.last == 0:
			r.first = s
		case s == r.last+1:
		case s <= r.last:
			r.dups++
			r.problems = append(r.problems, fmt.Sprintf("%d after %d (again)", s, r.last))
		default:
			r.gaps++
			r.problems = append(r.problems, fmt.Sprintf("%d after %d (%d missing)", s, r.last, s-r.last-1))
		}
		r.last = max(r.last, s)
	}
	if r.last != wrote {
		r.problems = append(r.problems, fmt.Sprintf("last line logged %d, host wrote %d (first logged %d)", r.last, wrote, r.first))
	}
	return r
}

func check(args []string) error {
	fs := flag.NewFlagSet("check", flag.ExitOnError)
	dir := fs.String("dir", "", "directory of the NAME.log files")
	state := fs.String("state", "", "the rack's NAME LASTSEQ file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	b, err := os.ReadFile(*state)
	if err != nil {
		return err
	}
	var names []string
	last := map[string]int{}
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var n string
		var s int
		if _, err := fmt.Sscanf(l, "%s %d", &n, &s); err != nil {
			return fmt.Errorf("%s: %q: %v", *state, l, err)
		}
		names = append(names, n)
		last[n] = s
	}
	var complete, lines, gaps, dups, short, foreign, connects, reconnected, fragments int
	var bad []string
	for _, n := range names {
		t := &tail{path: filepath.Join(*dir, n+".log")}
		ls, err := t.lines()
		if err != nil {
			return err
		}
		if len(t.rest) > 0 {
			ls = append(ls, string(t.rest))
		}
		r := checkLog(n, ls, last[n])
		lines += r.lines
		gaps += r.gaps
		dups += r.dups
		foreign += r.foreign
		connects += r.connects
		fragments += r.fragments
		if r.connects > 1 {
			reconnected++
		}
		if r.last != last[n] {
			short++
		}
		if len(r.problems) == 0 {
			complete++
		}
		for _, p := range r.problems {
			if len(bad) < 20 {
				bad = append(bad, n+": "+p)
			}
		}
	}
	fmt.Printf("logs complete: %d of %d consoles; %d host lines logged; %d gaps, %d repeats, %d logs short of the host's last line, %d lines in the wrong log; %d connect notes, %d consoles connected more than once; %d host lines split by a note\n",
		complete, len(names), lines, gaps, dups, short, foreign, connects, reconnected, fragments/2)
	for _, l := range bad {
		fmt.Println("  " + l)
	}
	if complete != len(names) {
		return fmt.Errorf("%d of %d logs incomplete", len(names)-complete, len(names))
	}
	return nil
}

// procStat is what /proc/PID/stat says about a process.
type procStat struct {
	ppid     int
	cpu      uint64 // utime+stime, clock ticks
	rssPages uint64
	start    uint64
	comm     string
}

func readStat(pid int) (procStat, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return procStat{}, err
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	j := strings.IndexByte(s, '(')
	if i < 0 || j < 0 {
		return procStat{}, fmt.Errorf("/proc/%d/stat: %q", pid, s)
	}
	f := strings.Fields(s[i+2:])
	// Fields after the command: state(0) ppid(1) ... utime(11) stime(12) ... starttime(19) vsize(20) rss(21).
	num := func(k int) uint64 { v, _ := strconv.ParseUint(f[k], 10, 64); return v }
	return procStat{ppid: int(num(1)), cpu: num(11) + num(12), start: num(19), rssPages: num(21), comm: s[j+1 : i]}, nil
}

// tree is the given processes and all their descendants.
func tree(roots []int) map[int]procStat {
	all := map[int]procStat{}
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if st, err := readStat(pid); err == nil {
			all[pid] = st
		}
	}
	in := map[int]procStat{}
	var add func(int)
	add = func(p int) {
		st, ok := all[p]
		if !ok {
			return
		}
		if _, dup := in[p]; dup {
			return
		}
		in[p] = st
		for c, cs := range all {
			if cs.ppid == p {
				add(c)
			}
		}
	}
	for _, r := range roots {
		add(r)
	}
	return in
}

func pss(pid int) uint64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/smaps_rollup", pid))
	if err != nil {
		return 0
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) >= 2 && f[0] == "Pss:" {
			v, _ := strconv.ParseUint(f[1], 10, 64)
			return v
		}
	}
	return 0
}

type pidList []int

func (p *pidList) String() string { return fmt.Sprint(*p) }
func (p *pidList) Set(s string) error {
	v, err := strconv.Atoi(s)
	*p = append(*p, v)
	return err
}

func usage(args []string) error {
	fs := flag.NewFlagSet("usage", flag.ExitOnError)
	var pids pidList
	fs.Var(&pids, "pid", "a process (with its descendants) to measure; repeatable")
	secs := fs.Float64("cpu-secs", 60, "CPU time is measured over this long")
	if err := fs.Parse(args); err != nil {
		return err
	}
	const tick = 100 // USER_HZ on Linux
	pageKB := uint64(os.Getpagesize() / 1024)
	t0 := time.Now()
	before := tree(pids)
	var rss, pssKB uint64
	comms := map[string]int{}
	for p, st := range before {
		rss += st.rssPages * pageKB
		pssKB += pss(p)
		comms[st.comm]++
	}
	time.Sleep(time.Duration(*secs * float64(time.Second)))
	after := tree(pids)
	el := time.Since(t0).Seconds()
	var ticks uint64
	gone := 0
	for p, a := range after {
		b, ok := before[p]
		if ok && b.start == a.start {
			ticks += a.cpu - b.cpu
		} else {
			ticks += a.cpu // started during the interval
		}
	}
	for p := range before {
		if _, ok := after[p]; !ok {
			gone++
		}
	}
	var cs []string
	for c, n := range comms {
		cs = append(cs, fmt.Sprintf("%s×%d", c, n))
	}
	sort.Strings(cs)
	fmt.Printf("processes=%d rss_mb=%.1f pss_mb=%.1f cpu_pct=%.2f cpu_secs=%.1f exited=%d (%s)\n",
		len(before), float64(rss)/1024, float64(pssKB)/1024, float64(ticks)/tick/el*100, el, gone, strings.Join(cs, " "))
	return nil
}

func pids(args []string) error {
	fs := flag.NewFlagSet("pids", flag.ExitOnError)
	var roots, exclude pidList
	fs.Var(&roots, "pid", "a process whose tree to list; repeatable")
	fs.Var(&exclude, "exclude", "a process (and its tree) not to list; repeatable")
	match := fs.String("match", "", "also list processes whose command line contains this (with their trees)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *match != "" {
		ents, _ := os.ReadDir("/proc")
		for _, e := range ents {
			pid, err := strconv.Atoi(e.Name())
			if err != nil || pid == os.Getpid() {
				continue
			}
			if b, err := os.ReadFile("/proc/" + e.Name() + "/cmdline"); err == nil && bytes.Contains(b, []byte(*match)) {
				roots = append(roots, pid)
			}
		}
	}
	skip := tree(exclude)
	for p := range tree(roots) {
		if _, no := skip[p]; !no && p != os.Getpid() {
			fmt.Println(p)
		}
	}
	return nil
}

func stats(d []time.Duration) string {
	if len(d) == 0 {
		return "no samples"
	}
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	ms := func(x time.Duration) float64 { return float64(x) / 1e6 }
	return fmt.Sprintf("median_ms=%.3f p90_ms=%.3f min_ms=%.3f max_ms=%.3f n=%d",
		ms(s[len(s)/2]), ms(s[len(s)*9/10]), ms(s[0]), ms(s[len(s)-1]), len(s))
}

func firstByte(args []string) error {
	fs := flag.NewFlagSet("first-byte", flag.ExitOnError)
	reps := fs.Int("reps", 20, "runs")
	expect := fs.String("expect", ".", "regular expression the output must match")
	timeout := fs.Duration("timeout", 10*time.Second, "longest a run may take")
	if err := fs.Parse(args); err != nil {
		return err
	}
	re, err := regexp.Compile(*expect)
	if err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return errors.New("no command")
	}
	var d []time.Duration
	for r := 0; r < *reps; r++ {
		ctx, cancel := context.WithTimeout(context.Background(), *timeout)
		cmd := exec.CommandContext(ctx, fs.Arg(0), fs.Args()[1:]...)
		in, _ := cmd.StdinPipe()
		out, _ := cmd.StdoutPipe()
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		t0 := time.Now()
		if err := cmd.Start(); err != nil {
			cancel()
			return err
		}
		var got []byte
		buf := make([]byte, 4096)
		found := false
		for !found {
			n, err := out.Read(buf)
			got = append(got, buf[:n]...)
			if re.Match(got) {
				d = append(d, time.Since(t0))
				found = true
			}
			if err != nil {
				break
			}
		}
		in.Close()
		cancel()
		_ = cmd.Wait()
		if !found {
			return fmt.Errorf("run %d: no output matching %q (got %q; stderr %q)", r+1, *expect, got, stderr.String())
		}
	}
	fmt.Println(stats(d))
	return nil
}

func keys(args []string) error {
	fs := flag.NewFlagSet("keys", flag.ExitOnError)
	n := fs.Int("keys", 50, "keystrokes measured")
	warm := fs.Int("warmup", 5, "keystrokes not counted")
	pace := fs.Duration("pace", 30*time.Millisecond, "pause between keystrokes")
	ready := fs.Duration("ready-timeout", 15*time.Second, "longest to wait for the first echo")
	keep := fs.String("samples", "", "also append each round trip (ns, one per line) to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return errors.New("no command")
	}
	cmd := exec.Command(fs.Arg(0), fs.Args()[1:]...)
	in, _ := cmd.StdinPipe()
	out, _ := cmd.StdoutPipe()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return err
	}
	defer func() { in.Close(); _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	var mu sync.Mutex
	var seen []byte
	got := make(chan struct{}, 1)
	go func() {
		buf := make([]byte, 4096)
		for {
			k, err := out.Read(buf)
			mu.Lock()
			seen = append(seen, buf[:k]...)
			mu.Unlock()
			select {
			case got <- struct{}{}:
			default:
			}
			if err != nil {
				return
			}
		}
	}()
	// awaitByte waits until c has been read back after offset from.
	awaitByte := func(c byte, from int, limit time.Duration) bool {
		deadline := time.NewTimer(limit)
		defer deadline.Stop()
		for {
			mu.Lock()
			hit := bytes.IndexByte(seen[min(from, len(seen)):], c) >= 0
			mu.Unlock()
			if hit {
				return true
			}
			select {
			case <-got:
			case <-deadline.C:
				return false
			}
		}
	}
	// Until the console is up, characters may be lost: probe until one echoes.
	probeEnd := time.Now().Add(*ready)
	for {
		mu.Lock()
		from := len(seen)
		mu.Unlock()
		if _, err := in.Write([]byte{'#'}); err != nil {
			return fmt.Errorf("write: %v (stderr %q)", err, stderr.String())
		}
		if awaitByte('#', from, 500*time.Millisecond) {
			break
		}
		if time.Now().After(probeEnd) {
			return fmt.Errorf("no echo within %v (stderr %q, output %q)", *ready, stderr.String(), seen)
		}
	}
	time.Sleep(200 * time.Millisecond) // let stray probe echoes arrive
	var d []time.Duration
	alphabet := "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	for k := 0; k < *warm+*n; k++ {
		c := alphabet[k%len(alphabet)]
		mu.Lock()
		from := len(seen)
		mu.Unlock()
		t0 := time.Now()
		if _, err := in.Write([]byte{c}); err != nil {
			return err
		}
		if !awaitByte(c, from, 5*time.Second) {
			return fmt.Errorf("keystroke %d (%q) not echoed within 5 s", k+1, c)
		}
		if k >= *warm {
			d = append(d, time.Since(t0))
		}
		time.Sleep(*pace)
	}
	if *keep != "" {
		if err := appendSamples(*keep, d); err != nil {
			return err
		}
	}
	fmt.Println(stats(d))
	return nil
}

func appendSamples(path string, d []time.Duration) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	var b strings.Builder
	for _, x := range d {
		fmt.Fprintln(&b, int64(x))
	}
	if _, err := f.WriteString(b.String()); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// samples prints the statistics of the round trips that keys --samples
// kept in the files given (several blocks of one measurement).
func samples(args []string) error {
	var d []time.Duration
	for _, path := range args {
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, l := range strings.Fields(string(b)) {
			ns, err := strconv.ParseInt(l, 10, 64)
			if err != nil {
				return fmt.Errorf("%s: %q: %v", path, l, err)
			}
			d = append(d, time.Duration(ns))
		}
	}
	if len(d) == 0 {
		return errors.New("no samples")
	}
	fmt.Println(stats(d))
	return nil
}
