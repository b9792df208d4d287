package expect

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ghmicons/ghmicons/pkg/command"
	"github.com/ghmicons/ghmicons/pkg/console"
)

// DefaultTimeout is an expect's bound when neither the script nor Env
// gives one.
const DefaultTimeout = 5 * time.Minute

// Source is the console's output, read with a way out.
type Source interface {
	// Next returns the next output, waiting until there is some or ctx
	// ends; io.EOF when the console has ended.
	Next(ctx context.Context) ([]byte, error)
}

// ConsoleSource reads a console's Reader (events and gaps are skipped).
func ConsoleSource(r *console.Reader) Source { return consoleSource{r} }

type consoleSource struct{ r *console.Reader }

func (s consoleSource) Next(ctx context.Context) ([]byte, error) {
	for {
		c, err := s.r.Next(ctx)
		if err != nil {
			return nil, err
		}
		if len(c.Data) > 0 {
			return c.Data, nil
		}
	}
}

// Env is what a script runs on.
type Env struct {
	Output Source    // the console's output
	Input  io.Writer // the console's input; a WriteContext method, if it has one, is used
	// Target runs the script's commands (a *console.Console); nil refuses
	// them.
	Target command.Target
	// Print takes the print statements' lines; nil discards them.
	Print io.Writer
	// Note is told the result of each command that succeeded (what a
	// console notes); nil ignores them.
	Note func(command.Result)
	// Getenv reads ${env:NAME}; nil has none.
	Getenv func(string) (string, bool)
	// Timeout bounds an expect that gives no timeout, until a timeout
	// statement says otherwise; 0 means DefaultTimeout.
	Timeout time.Duration
	// Window bounds the output an expect searches; 0 means DefaultWindow.
	Window int
	// Step, if set, is told each step as it starts (for a trace).
	Step func(Step)
}

// Result is what a script captured: every named group of its matches (the
// latest value of each) and the groups of its last match.
type Result struct {
	Named  map[string]string
	Groups []string
}

// TimeoutError is an expect whose pattern did not come in time. Tail is
// the last output (Matcher.Tail).
type TimeoutError struct {
	Where   string
	Pattern string
	After   time.Duration
	Tail    string
}

func (e *TimeoutError) Error() string {
	return fmt.Sprintf("%s: %s not seen within %v", e.Where, slashed(e.Pattern), e.After)
}

// StepError is a step that failed otherwise: the output ended, a send or a
// command failed. It unwraps to the cause.
type StepError struct {
	Step Step
	Err  error
}

func (e *StepError) Error() string {
	return fmt.Sprintf("%s: %s: %v", e.Step.Where, e.Step, e.Err)
}
func (e *StepError) Unwrap() error { return e.Err }

// ErrOutputEnded: the console's output ended while an expect waited.
var ErrOutputEnded = errors.New("the console's output ended")

// Run runs the script. The output is read from the start of Run on,
// continuously, also while a step sends or waits, so that the console is
// never held up by the script; Run returns when the script is done, a
// step fails or ctx ends, with the output reader stopped.
func (s *Script) Run(ctx context.Context, env Env) (Result, error) {
	ctx, cancel := context.WithCancel(ctx)
	r := &runner{env: env, m: NewMatcher(env.Window), fed: make(chan struct{}, 1),
		named: map[string]string{}, timeout: env.Timeout}
	if r.timeout <= 0 {
		r.timeout = DefaultTimeout
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		r.read(ctx)
	}()
	defer wg.Wait()
	defer cancel()
	for _, st := range s.Steps {
		if env.Step != nil {
			env.Step(st)
		}
		if err := r.step(ctx, st); err != nil {
			return r.result(), err
		}
	}
	return r.result(), nil
}

type runner struct {
	env     Env
	timeout time.Duration

	mu     sync.Mutex
	m      *Matcher
	ended  error // why the output ended (io.EOF, ...)
	fed    chan struct{}
	named  map[string]string
	groups []string
}

// read feeds the matcher until the output ends or ctx does.
func (r *runner) read(ctx context.Context) {
	for {
		b, err := r.env.Output.Next(ctx)
		r.mu.Lock()
		if len(b) > 0 {
			_, _ = r.m.Write(b)
		}
		if err != nil && ctx.Err() == nil {
			r.ended = err
		}
		r.mu.Unlock()
		select {
		case r.fed <- struct{}{}:
		default:
		}
		if err != nil {
			return
		}
	}
}

func (r *runner) result() Result {
	named := make(map[string]string, len(r.named))
	for k, v := range r.named {
		named[k] = v
	}
	return Result{Named: named, Groups: append([]string(nil), r.groups...)}
}

func (r *runner) step(ctx context.Context, st Step) error {
	switch st.Kind {
	case Send:
		return r.send(ctx, st)
	case Expect:
		return r.expect(ctx, st)
	case Delay:
		t := time.NewTimer(st.Duration)
		defer t.Stop()
		select {
		case <-t.C:
			return nil
		case <-ctx.Done():
			return context.Cause(ctx)
		}
	case Timeout:
		r.timeout = st.Duration
	case Print:
		if r.env.Print != nil {
			if _, err := io.WriteString(r.env.Print, r.expand(st.Text)+"\n"); err != nil {
				return &StepError{Step: st, Err: err}
			}
		}
	case Command:
		if r.env.Target == nil {
			return &StepError{Step: st, Err: errors.New("no console to run commands on")}
		}
		res, err := st.Call.Run(ctx, r.env.Target)
		if err != nil {
			return &StepError{Step: st, Err: err} // says it all: no note as well
		}
		if r.env.Note != nil {
			r.env.Note(res)
		}
		// The output before the command is the old state of the host.
		r.mu.Lock()
		r.m.Forget()
		r.mu.Unlock()
	}
	return nil
}

func (r *runner) send(ctx context.Context, st Step) error {
	b := []byte(r.expand(st.Text))
	var err error
	if w, ok := r.env.Input.(interface {
		WriteContext(context.Context, []byte) (int, error)
	}); ok {
		_, err = w.WriteContext(ctx, b)
	} else {
		_, err = r.env.Input.Write(b)
	}
	if err != nil {
		if ctx.Err() != nil {
			return context.Cause(ctx)
		}
		return &StepError{Step: st, Err: err}
	}
	return nil
}

func (r *runner) expect(ctx context.Context, st Step) error {
	bound := st.Duration
	if bound <= 0 {
		bound = r.timeout
	}
	t := time.NewTimer(bound)
	defer t.Stop()
	for {
		r.mu.Lock()
		groups, ok := r.m.Match(st.Re)
		ended := r.ended
		r.mu.Unlock()
		if ok {
			r.groups = groups
			for i, n := range st.Re.SubexpNames() {
				if n != "" {
					r.named[n] = groups[i]
				}
			}
			return nil
		}
		if ended != nil {
			if ended == io.EOF {
				ended = ErrOutputEnded
			}
			return &StepError{Step: st, Err: ended}
		}
		select {
		case <-r.fed:
		case <-t.C:
			r.mu.Lock()
			tail := r.m.Tail()
			r.mu.Unlock()
			return &TimeoutError{Where: st.Where, Pattern: st.Re.String(), After: bound, Tail: tail}
		case <-ctx.Done():
			return context.Cause(ctx)
		}
	}
}

// expand substitutes a text's references.
func (r *runner) expand(t Text) string {
	return t.expand(func(ref string) string {
		if name, ok := strings.CutPrefix(ref, envPrefix); ok {
			if r.env.Getenv != nil {
				v, _ := r.env.Getenv(name)
				return v
			}
			return ""
		}
		if isNumber(ref) {
			n, _ := strconv.Atoi(ref)
			if n < len(r.groups) {
				return r.groups[n]
			}
			return ""
		}
		return r.named[ref]
	})
}
