package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/ghmicons/ghmicons/pkg/command"
	"github.com/ghmicons/ghmicons/pkg/console"
	"github.com/ghmicons/ghmicons/pkg/expect"
)

// Scripted consoles: --send, --expect, --print, --expect-timeout, --script
// and --quiet-console (pkg/expect runs the script; docs/expect.md). The console
// is the usual one (attach.go): output to stdout and --log, notes on
// stderr; stdin is not read, escapes are off, and the script's end is the
// end of the console: exit 0 once it has run and the BMC has taken its
// input, exit 9 when an expect times out, with the last output on stderr.

// defaultExpectTimeout is --expect-timeout's default; its bounds are a
// script's (expect.MinTimeout, expect.MaxTimeout).
const defaultExpectTimeout = expect.DefaultTimeout

// scriptOptions are the flags of a scripted console.
type scriptOptions struct {
	stepArgs      []stepArg // --send, --expect and --print, in command-line order
	expectTimeout time.Duration
	scriptFile    string
	quietConsole  bool
	// script is the script to run, the attach commands first; nil attaches
	// as usual.
	script *expect.Script
}

type stepArg struct {
	kind  expect.Kind
	value string
}

// stepFlag is --send, --expect or --print: each value is a step, kept in
// order with the others' (pflag sets values in command-line order).
type stepFlag struct {
	o    *scriptOptions
	kind expect.Kind
}

func (f *stepFlag) String() string { return "" }
func (f *stepFlag) Type() string   { return "string" }
func (f *stepFlag) Set(v string) error {
	f.o.stepArgs = append(f.o.stepArgs, stepArg{kind: f.kind, value: v})
	return nil
}

func (s *scriptOptions) addFlags(fs *pflag.FlagSet) {
	fs.Var(&stepFlag{o: s, kind: expect.Send}, "send", "with the console: send `TEXT` (\\r \\n \\xHH escapes; repeatable, in order with --expect)")
	fs.Var(&stepFlag{o: s, kind: expect.Expect}, "expect", "with the console: wait for `REGEX` in its output (repeatable, in order), then exit 0")
	fs.Var(&stepFlag{o: s, kind: expect.Print}, "print", "with --expect: print `TEXT` on stdout, with $1 or ${name} of an earlier match (repeatable, in order)")
	fs.DurationVar(&s.expectTimeout, "expect-timeout", defaultExpectTimeout, "the longest an expect waits, 1s-24h; then exit 9 with the last output on stderr")
	fs.StringVar(&s.scriptFile, "script", "", "with the console: run the send/expect script `FILE`, then exit (docs/expect.md)")
	fs.BoolVar(&s.quietConsole, "quiet-console", false, "with --expect or --script: no console output on stdout (--log has it)")
}

// validateScript checks the scripted console's flags and reads the script
// before anything is sent: a script that does not parse is a usage error.
func (o *options) validateScript() error {
	s := &o.scriptOptions
	scripted := len(s.stepArgs) > 0 || s.scriptFile != ""
	if !scripted {
		if g := o.given("expect-timeout", "quiet-console"); len(g) > 0 {
			return usagef("%s apply to --expect and --script: add one", strings.Join(g, " and "))
		}
		return nil
	}
	if len(o.args) > 0 {
		return usagef("--send, --expect and --script drive the console; with the command %q, run it on its own", o.args[0])
	}
	if s.scriptFile != "" && len(s.stepArgs) > 0 {
		return usagef("--script and %s both give the steps: put the sends and expects in the script", o.given("send", "expect", "print")[0])
	}
	if o.keepOpen {
		return usagef("--keep-open keeps the console at the end of input; with --expect or --script the script's end ends it")
	}
	if s.expectTimeout < expect.MinTimeout || s.expectTimeout > expect.MaxTimeout {
		return usagef("--expect-timeout %v: give %v to %v", s.expectTimeout, expect.MinTimeout, expect.MaxTimeout)
	}
	// The attach commands first, as without a script.
	var steps []expect.Step
	for _, c := range []struct {
		flag string
		call *command.Call
	}{{"--bootdev", o.bootCmd}, {"--power", o.powerCmd}} {
		if c.call != nil {
			steps = append(steps, expect.NewCommand(c.flag, c.call))
		}
	}
	if s.scriptFile != "" {
		src, err := readScript(s.scriptFile)
		if err != nil {
			return usagef("--script: %v", err)
		}
		fromFile, err := expect.Parse(s.scriptFile, src)
		if err != nil {
			return usagef("%v", err)
		}
		steps = append(steps, fromFile.Steps...)
	}
	for _, a := range s.stepArgs {
		var st expect.Step
		var err error
		switch a.kind {
		case expect.Send:
			st, err = expect.NewSend("--send", a.value)
		case expect.Print:
			st, err = expect.NewPrint("--print", a.value)
		default:
			st, err = expect.NewExpect("--expect", a.value, 0)
		}
		if err != nil {
			return usagef("%v", err)
		}
		steps = append(steps, st)
	}
	script, err := expect.New(steps)
	if err != nil {
		return usagef("%v", err)
	}
	s.script = script
	return nil
}

// readScript reads a script file, bounded.
func readScript(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, expect.MaxScript+1))
	if err != nil {
		return nil, err
	}
	if len(b) > expect.MaxScript {
		return nil, fmt.Errorf("%s: over %d bytes", path, expect.MaxScript)
	}
	return b, nil
}

// checkScriptEnv refuses a script whose ${env:NAME} is not set.
func (o *options) checkScriptEnv(getenv func(string) (string, bool)) error {
	if o.script == nil {
		return nil
	}
	for _, name := range o.script.Env() {
		if _, ok := getenv(name); !ok {
			return usagef("the script uses ${env:%s}, which is not set", name)
		}
	}
	return nil
}

// runScript runs the script once the console is attached (afterAttach),
// then waits (bounded) until the BMC has taken the script's input, and
// tells the owner.
func (f *frontend) runScript() {
	_, err := f.o.script.Run(f.ctx, expect.Env{
		Output:  expect.ConsoleSource(f.expOut),
		Input:   f.w,
		Target:  f.con,
		Print:   f.env.Stdout,
		Note:    func(r command.Result) { f.sayResult(r.Note, r.Logged) },
		Getenv:  f.env.Getenv,
		Timeout: f.o.expectTimeout,
		Step:    func(st expect.Step) { f.debugf("script: %s: %s", st.Where, st) },
	})
	f.expOut.Close()
	if err == nil {
		ctx, cancel := context.WithTimeout(f.ctx, inputStallBound)
		err = f.con.Drain(ctx)
		cancel()
		if errors.Is(err, context.DeadlineExceeded) {
			err = fmt.Errorf("the script's end: the BMC took none of its last input for %v", inputStallBound)
		}
	}
	f.scriptDone <- err
}

// onScriptDone ends the console at the script's end: as at the end of
// input (stdout gets all the output received), or with the script's error;
// a timeout shows the last output first.
func (f *frontend) onScriptDone(err error) {
	var te *expect.TimeoutError
	if errors.As(err, &te) {
		if te.Tail != "" {
			f.msgs.print("ghmicons: the last output:\n  " + strings.ReplaceAll(te.Tail, "\n", "\n  ") + "\n")
		} else {
			f.msgs.print("ghmicons: no output came\n")
		}
	}
	if err != nil {
		f.stop(err, endError)
		return
	}
	f.stop(nil, endInput)
}

// newScriptReader makes the script's reader of the output: lossless, from the
// console's start.
func (f *frontend) newScriptReader() {
	if f.o.script != nil {
		f.expOut = f.con.NewReader(console.ReaderConfig{Name: "expect"})
		f.scriptDone = make(chan error, 1)
	}
}

// expectTimedOut: exit 9.
func expectTimedOut(err error) bool {
	var te *expect.TimeoutError
	return errors.As(err, &te)
}
