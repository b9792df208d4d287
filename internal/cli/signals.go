package cli

import (
	"context"
	"errors"
	"os"
	"os/signal"
	"sync"
	"syscall"
)

// Signals outside the console loop: while a secret is read at a prompt and
// while a one-shot command runs, SIGINT, SIGTERM, SIGHUP and SIGQUIT end the
// program as they end the console: the terminal restored, the session
// closed, one line ("ghmicons: ended by SIGTERM") and exit status 8. The
// console installs its own handling (attach.go) once it starts.

// endSignals are the signals that end ghmicons with ExitSignal. The syscall
// names exist on every GOOS, Windows included (where only os.Interrupt is
// ever delivered).
var endSignals = []os.Signal{os.Interrupt, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT}

// signalName is the conventional name of a signal: "SIGTERM", not the
// runtime's "terminated".
func signalName(s os.Signal) string {
	switch s {
	case os.Interrupt:
		return "SIGINT"
	case syscall.SIGTERM:
		return "SIGTERM"
	case syscall.SIGHUP:
		return "SIGHUP"
	case syscall.SIGQUIT:
		return "SIGQUIT"
	case syscall.SIGPIPE:
		return "SIGPIPE"
	}
	return s.String()
}

// notifyEndSignals asks for the end signals on ch. A signal ignored from
// the start (nohup ignores SIGHUP) stays ignored: Notify would turn it back
// on.
func notifyEndSignals(ch chan<- os.Signal) {
	for _, s := range endSignals {
		if !signal.Ignored(s) {
			signal.Notify(ch, s)
		}
	}
}

// notifySIGPIPE takes SIGPIPE away from the runtime: without it a write to a
// closed pipe on fd 1 or 2 kills the process at once (exit 141, no
// Deactivate, no Close Session); with it, the write fails with EPIPE and the
// error takes the ordinary way out. (Windows has no SIGPIPE to deliver: a
// write to a closed pipe fails there anyway.)
func notifySIGPIPE(ch chan<- os.Signal) { signal.Notify(ch, syscall.SIGPIPE) }

// signalScope turns the end signals into the cancellation of a context
// whose cause is a *signalError. While it is active SIGPIPE is caught too,
// so that a write to a closed pipe fails with EPIPE (reported, exit 1)
// instead of killing the program before it closes the session.
type signalScope struct {
	ctx    context.Context
	cancel context.CancelCauseFunc
	sigs   chan os.Signal
	pipe   chan os.Signal
	again  chan struct{} // closed on a second end signal: stop waiting for the BMC
	quit   chan struct{} // closed by stop
	wg     sync.WaitGroup
	once   sync.Once
}

// catchSignals starts a scope; stop ends it and gives the signals their
// default disposition back.
func catchSignals(parent context.Context) *signalScope {
	ctx, cancel := context.WithCancelCause(parent)
	sc := &signalScope{ctx: ctx, cancel: cancel, sigs: make(chan os.Signal, 4), pipe: make(chan os.Signal, 1),
		again: make(chan struct{}), quit: make(chan struct{})}
	notifyEndSignals(sc.sigs)
	notifySIGPIPE(sc.pipe)
	sc.wg.Add(1)
	go sc.watch()
	return sc
}

func (sc *signalScope) watch() {
	defer sc.wg.Done()
	first := true
	for {
		select {
		case s := <-sc.sigs:
			if first {
				first = false
				sc.cancel(&signalError{sig: signalName(s)})
				continue
			}
			close(sc.again)
			return
		case <-sc.pipe:
			// The failed write reports it.
		case <-sc.quit:
			return
		}
	}
}

// stop ends the scope; a signal that came is still reported by err.
func (sc *signalScope) stop() {
	sc.once.Do(func() {
		signal.Stop(sc.sigs)
		signal.Stop(sc.pipe)
		close(sc.quit)
		sc.wg.Wait()
	})
}

// err returns the *signalError of the signal that ended the scope, or nil.
func (sc *signalScope) err() error {
	return signalCause(sc.ctx)
}

// or returns the signal's error in place of err when a signal cancelled
// the scope (err is then the cancelled request's "context canceled").
func (sc *signalScope) or(err error) error {
	if se := sc.err(); se != nil && err != nil {
		return se
	}
	return err
}

// signalCause returns the *signalError that cancelled ctx, or nil.
func signalCause(ctx context.Context) error {
	if ctx.Err() == nil {
		return nil
	}
	var se *signalError
	if errors.As(context.Cause(ctx), &se) {
		return se
	}
	return nil
}
