// Package cli is the ghmicons program, a front end over the console engine
// (pkg/console) and the command table (pkg/command). Its files, one concern
// each:
//
//	run.go        Run: options, secrets, one-shot commands or the console
//	options.go    the flags and their checks; command.go the table's texts
//	credentials.go, secret*.go  passwords and K_g from flags, files, prompts
//	attach.go     the console's front end: setup and the owner loop
//	input.go      stdin, escapes, the writer's backpressure
//	prompt.go     the ~C prompt
//	notes.go      what the console's events say, on stderr and in the log
//	output.go     stdout and the log, copied from lossless readers
//	end.go        the end of input (pipe mode) and the way out
//	terminal.go, suspend_*.go   raw mode, suspend
//	signals.go    the end signals outside the console; exit.go exit codes
//	messages.go   stderr, never blocking; trace.go --debug; demo.go --demo
//
// Only this package prints; it maps errors to exit codes in one place
// (exit.go).
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/pflag"
	"golang.org/x/term"

	"github.com/ghmicons/ghmicons/pkg/command"
	"github.com/ghmicons/ghmicons/pkg/ipmi"
)

// Env is the program's environment, injectable for tests.
type Env struct {
	Stdin          *os.File
	Stdout, Stderr *os.File
	Getenv         func(string) (string, bool)
}

// Run runs ghmicons and returns its exit code.
func Run(args []string, env Env) int {
	if env.Getenv == nil {
		env.Getenv = os.LookupEnv
	}
	err := run(args, env)
	if errors.Is(err, pflag.ErrHelp) {
		return ExitOK
	}
	report(env.Stderr, err)
	return ExitCode(err)
}

// report prints the error that ends the program as one line, unless it
// has been shown already (see alreadyReported).
func report(w io.Writer, err error) {
	var re *reportedError
	if err == nil || errors.As(err, &re) {
		return
	}
	msg := strings.TrimPrefix(err.Error(), "ghmicons: ")
	fmt.Fprintf(w, "ghmicons: %s\n", oneLine(msg))
}

func oneLine(s string) string { return strings.ReplaceAll(strings.TrimSpace(s), "\n", "; ") }

func run(args []string, env Env) error {
	if len(args) > 0 && args[0] == "serve" {
		return runServe(args[1:], env) // serve.go
	}
	o, err := parseOptions(args, env.Stderr)
	if err != nil {
		var ue *usageError
		if errors.Is(err, pflag.ErrHelp) || errors.As(err, &ue) {
			return err
		}
		return &usageError{err.Error() + " (see --help)"}
	}
	if o.version {
		fmt.Fprintf(env.Stdout, "ghmicons %s\n", Version)
		return nil
	}
	if o.demo {
		return runDemo(o, env)
	}
	addr, err := o.address()
	if err != nil {
		return err
	}
	// From here to the console's own handling (or to the end of a one-shot
	// command) the end signals cancel ctx.
	sc := catchSignals(context.Background())
	defer sc.stop()
	cfg, err := o.sessionConfig(sc.ctx, env.Getenv, env.Stdin, env.Stderr)
	if err != nil {
		return sc.or(err)
	}
	if o.cmd != nil {
		return oneShot(sc, o, addr, cfg, env)
	}
	// The console installs its own handlers; a signal between here and
	// there takes its default action, with nothing yet to restore or close.
	sc.stop()
	if err := sc.err(); err != nil {
		return err
	}
	return attach(o, addr, cfg, env, nil)
}

// oneShot runs a one-shot command of the table (power, bootdev, info) and
// exits. A signal ends it
// with the session closed; a second signal while the BMC is slow to answer
// Close Session leaves at once.
func oneShot(sc *signalScope, o *options, addr string, cfg ipmi.Config, env Env) (err error) {
	dbg, closeDebug, err := o.debugWriter(env.Stderr)
	if err != nil {
		return err
	}
	defer closeDebug()
	if dbg != nil {
		cfg.Trace = (&tracer{w: dbg}).event
	}
	s, err := ipmi.Dial(sc.ctx, o.network(), addr, cfg)
	if err != nil {
		return sc.or(err)
	}
	defer func() {
		if cerr := closeSession(sc, s); err == nil {
			err = cerr
		}
	}()
	res, err := o.cmd.Run(sc.ctx, command.OnSession(s))
	if err != nil {
		return sc.or(err)
	}
	if _, err := io.WriteString(env.Stdout, res.Output); err != nil {
		return fmt.Errorf("writing the answer: %w", err)
	}
	return nil
}

// closeSession closes s (Close Session, bounded by the session's timeout)
// unless a second signal asks to leave now.
func closeSession(sc *signalScope, s *ipmi.Session) error {
	done := make(chan error, 1)
	go func() { done <- s.Close() }()
	select {
	case err := <-done:
		return err
	case <-sc.again:
		return sc.err()
	}
}

func isTerminal(f *os.File) bool { return f != nil && term.IsTerminal(int(f.Fd())) }
