package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ghmicons/ghmicons/pkg/command"
	"github.com/ghmicons/ghmicons/pkg/hostlist"
	"github.com/ghmicons/ghmicons/pkg/ipmi"
)

// Fleets: a one-shot command of the table on many BMCs at once, as
// FreeIPMI's ipmipower does. -H takes a hostlist ("node[01-64]-bmc") or
// @FILE, --hostfile a file of hosts. Each host gets a session of its own;
// at most --fanout run at once. Each host's result is one line,
// "host: result", in the order of the hostlist (a line is printed as soon
// as it and those before it are known), so that two runs can be compared
// line by line. A failure says "host: error: why", never a bare state.

// Bounds of --fanout and --wait-timeout.
const (
	maxFanout      = 1024
	minWaitTimeout = time.Second
	maxWaitTimeout = time.Hour
)

// waitPoll is how often --wait asks the BMC for the power state.
var waitPoll = 500 * time.Millisecond

// fleetMode: the hosts are a hostlist or a file, not one BMC. It depends on
// the syntax only, never on how many hosts the list has, so that a script's
// output does not change form when a list happens to hold one host.
func (o *options) fleetMode() bool {
	return o.hostFile != "" || strings.HasPrefix(o.host, "@") || hostlist.IsList(o.host)
}

// fleetHosts reads the hosts of -H or --hostfile and checks each one's
// address, so that a typo costs no session.
func (o *options) fleetHosts() ([]fleetHost, error) {
	var names []string
	var err error
	switch {
	case o.hostFile != "" && o.host != "":
		return nil, usagef("-H and --hostfile both give the hosts: use one")
	case o.hostFile != "":
		names, err = readHostFile(o.hostFile)
	case strings.HasPrefix(o.host, "@"):
		names, err = readHostFile(strings.TrimPrefix(o.host, "@"))
	default:
		names, err = hostlist.Expand(o.host)
	}
	if err != nil {
		return nil, usagef("-H: %v", err)
	}
	port := 0
	if o.fs.Changed("port") {
		port = o.port
	}
	hosts := make([]fleetHost, len(names))
	for i, n := range names {
		addr, err := ipmi.BMCAddress(n, port)
		if err != nil {
			return nil, usagef("-H: host %s: %s", n, strings.TrimPrefix(err.Error(), "ipmi: "))
		}
		hosts[i] = fleetHost{name: n, addr: addr}
	}
	return hosts, nil
}

func readHostFile(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return hostlist.Read(f, path, hostlist.DefaultLimit)
}

type fleetHost struct{ name, addr string }

// A fleet runs calls on hosts with a bounded fan-out.
type fleet struct {
	network string
	cfg     ipmi.Config
	fanout  int
	// waitFor bounds the wait for a new power state (--wait); 0: no wait.
	waitFor time.Duration
	// dialFn sets up a session; nil means ipmi.Dial (tests dial memnet).
	dialFn func(ctx context.Context, network, addr string, cfg ipmi.Config) (*ipmi.Session, error)
	// suite is the cipher suite the first session negotiated, plus one (0:
	// none yet), proposed first to the other BMCs (see dial).
	suite atomic.Int32
}

// hostResult is one host's answer: its line's text after "host: ", and
// the error if it failed.
type hostResult struct {
	text string
	err  error
}

// run runs call on every host, at most f.fanout at once, and gives each
// result to emit in the hosts' order, as soon as it and those before it
// are done. It returns the results.
func (f *fleet) run(ctx context.Context, hosts []fleetHost, call *command.Call, emit func(fleetHost, hostResult)) []hostResult {
	results := make([]hostResult, len(hosts))
	done := make([]chan struct{}, len(hosts))
	for i := range done {
		done[i] = make(chan struct{})
	}
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(max(f.fanout, 1), len(hosts)) {
		wg.Go(func() {
			for i := range next {
				results[i] = f.one(ctx, hosts[i], call)
				close(done[i])
			}
		})
	}
	go func() {
		for i := range hosts {
			next <- i
		}
		close(next)
	}()
	for i := range hosts {
		<-done[i]
		if emit != nil {
			emit(hosts[i], results[i])
		}
	}
	wg.Wait()
	return results
}

// one runs call on one host: a session of its own, the call, the wait for
// the new power state if asked, Close Session.
func (f *fleet) one(ctx context.Context, h fleetHost, call *command.Call) hostResult {
	s, err := f.dial(ctx, h)
	if err != nil {
		return failed(ctx, err)
	}
	defer s.Close()
	res, err := call.Run(ctx, command.OnSession(s))
	if err != nil {
		return failed(ctx, err)
	}
	if want, ok := waitState(call); ok && f.waitFor > 0 {
		if err := waitPower(ctx, s, want, f.waitFor); err != nil {
			return failed(ctx, err)
		}
		return hostResult{text: want.String()}
	}
	return hostResult{text: resultText(call, res)}
}

// dial sets up a session with h. Without -C the first session negotiates
// (Get Channel Cipher Suites, IPMI v2.0 §22.15) and the others propose its
// suite straight away: the BMCs of a fleet are mostly alike, and that saves
// each the listing's round trips. A BMC that answered but set up no session
// with that suite negotiates after all; one that did not answer at all, or
// refused the user, fails as it would have anyway.
func (f *fleet) dial(ctx context.Context, h fleetHost) (*ipmi.Session, error) {
	dial := f.dialFn
	if dial == nil {
		dial = ipmi.Dial
	}
	id := f.suite.Load() - 1
	if f.cfg.CipherSuites != nil || id < 0 {
		s, err := dial(ctx, f.network, h.addr, f.cfg)
		if err == nil && f.cfg.CipherSuites == nil {
			f.suite.CompareAndSwap(0, int32(s.CipherSuite().ID)+1)
		}
		return s, err
	}
	cfg := f.cfg
	cfg.CipherSuites = []uint8{uint8(id)}
	s, err := dial(ctx, f.network, h.addr, cfg)
	if err == nil || ctx.Err() != nil || !worthNegotiating(err) {
		return s, err
	}
	return dial(ctx, f.network, h.addr, f.cfg)
}

// worthNegotiating: a setup with a proposed suite failed in a way that
// negotiating might not (not silence from the start, not credentials).
func worthNegotiating(err error) bool {
	var te *ipmi.TimeoutError
	if errors.As(err, &te) && te.Op == "Get Channel Authentication Capabilities" {
		return false
	}
	switch ExitCode(err) {
	case ExitAuth, ExitSignal:
		return false
	}
	return true
}

// failed is a host's error line: "error: " and the reason on one line, so
// that no failure can be read as a state.
func failed(ctx context.Context, err error) hostResult {
	if se := signalCause(ctx); se != nil {
		err = se
	}
	return hostResult{text: "error: " + oneLine(strings.TrimPrefix(err.Error(), "ipmi: ")), err: err}
}

// resultText is a result as the words after "host: ": the power state
// ("on", "off"), "ok" for an action the BMC took (as ipmipower prints),
// else the command's output on one line.
func resultText(call *command.Call, res command.Result) string {
	if call.Command.Name == "power" {
		if call.Status {
			return res.Power.String()
		}
		return "ok"
	}
	lines := strings.Split(strings.TrimSpace(res.Output), "\n")
	for i, l := range lines {
		lines[i] = strings.Join(strings.Fields(l), " ")
	}
	return strings.Join(lines, "; ")
}

// waitState is the power state an action leads to, if --wait can confirm
// one: on after on, cycle and reset; off after off and soft.
func waitState(call *command.Call) (command.PowerState, bool) {
	if call.Command == nil || call.Command.Name != "power" || call.Status {
		return command.PowerUnknown, false
	}
	switch call.Action {
	case ipmi.PowerOn, ipmi.PowerCycle, ipmi.HardReset:
		return command.PowerOn, true
	case ipmi.PowerOff, ipmi.SoftShutdown:
		return command.PowerOff, true
	}
	return command.PowerUnknown, false
}

// errWaitTimeout: the BMC did not report the new power state in time.
var errWaitTimeout = errors.New("power state not confirmed")

// waitPower asks the BMC for the power state every waitPoll until it is
// want, for at most limit.
func waitPower(ctx context.Context, s *ipmi.Session, want command.PowerState, limit time.Duration) error {
	wctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	last := command.PowerUnknown
	var lastErr error
	for {
		cs, err := s.ChassisStatus(wctx)
		switch {
		case err == nil:
			lastErr = nil
			if last = command.PowerOff; cs.PowerOn {
				last = command.PowerOn
			}
			if last == want {
				return nil
			}
		case wctx.Err() == nil:
			lastErr = err // the BMC did not answer this one: ask again
		}
		t := time.NewTimer(waitPoll)
		select {
		case <-wctx.Done():
			t.Stop()
			if se := signalCause(ctx); se != nil {
				return se
			}
			if err := ctx.Err(); err != nil {
				return err
			}
			if lastErr != nil {
				return fmt.Errorf("%w after %v (want %s): %w", errWaitTimeout, limit, want, lastErr)
			}
			return fmt.Errorf("%w: still %s after %v (want %s)", errWaitTimeout, last, limit, want)
		case <-t.C:
		}
	}
}

// fleetError: some hosts failed. Its exit code is theirs when they agree
// (4 if every failed host was unreachable), else 1.
type fleetError struct {
	failed []string
	total  int
	code   int
}

func (e *fleetError) Error() string {
	return fmt.Sprintf("%d of %d hosts failed: %s", len(e.failed), e.total, hostlist.Compress(e.failed))
}

// fleetOutcome is the fleet's error: nil if every host succeeded.
func fleetOutcome(hosts []fleetHost, results []hostResult) error {
	var fe fleetError
	fe.total = len(hosts)
	var codes []int
	for i, r := range results {
		if r.err != nil {
			fe.failed = append(fe.failed, hosts[i].name)
			codes = append(codes, ExitCode(r.err))
		}
	}
	if len(fe.failed) == 0 {
		return nil
	}
	slices.Sort(codes)
	if fe.code = codes[0]; codes[0] != codes[len(codes)-1] {
		fe.code = ExitError
	}
	return &fe
}

// runFleet runs the one-shot command on every host, printing
// "host: result" lines to stdout; the summary of failures goes to stderr.
func runFleet(sc *signalScope, o *options, hosts []fleetHost, cfg ipmi.Config, env Env) error {
	f, closeDebug, err := o.newFleet(cfg, env.Stderr)
	if err != nil {
		return err
	}
	defer closeDebug()
	var werr error
	results := f.run(sc.ctx, hosts, o.cmd, func(h fleetHost, r hostResult) {
		if werr == nil {
			_, werr = fmt.Fprintf(env.Stdout, "%s: %s\n", h.name, r.text)
		}
	})
	if werr != nil {
		return fmt.Errorf("writing the answers: %w", werr)
	}
	if err := sc.err(); err != nil {
		return err
	}
	return fleetOutcome(hosts, results)
}

// newFleet makes the fleet of the flags: fan-out, wait, --debug's trace.
func (o *options) newFleet(cfg ipmi.Config, stderr io.Writer) (*fleet, func(), error) {
	dbg, closeDebug, err := o.debugWriter(stderr)
	if err != nil {
		return nil, nil, err
	}
	if dbg != nil {
		cfg.Trace = (&tracer{w: dbg}).event // one tracer: its lock keeps lines whole
	}
	f := &fleet{network: o.network(), cfg: cfg, fanout: o.fanout}
	if o.wait {
		f.waitFor = o.waitTimeout
	}
	return f, closeDebug, nil
}

// validateFleet checks the flags of fleets, --wait and --powerman.
func (o *options) validateFleet() error {
	if o.fanout < 1 || o.fanout > maxFanout {
		return usagef("--fanout %d: give 1 to %d", o.fanout, maxFanout)
	}
	if o.waitTimeout < minWaitTimeout || o.waitTimeout > maxWaitTimeout {
		return usagef("--wait-timeout %v: give %v to %v", o.waitTimeout, minWaitTimeout, maxWaitTimeout)
	}
	if o.fs.Changed("wait-timeout") && !o.wait && !o.powerman {
		return usagef("--wait-timeout bounds --wait: add --wait")
	}
	if o.powerman {
		if len(o.args) > 0 {
			return usagef("--powerman reads its commands from standard input: drop %q", strings.Join(o.args, " "))
		}
		if g := o.given("bootdev", "power", "wait"); len(g) > 0 {
			return usagef("--powerman takes its actions from powerman: drop %s", strings.Join(g, ", "))
		}
		if o.host == "" && o.hostFile == "" {
			return usagef("--powerman needs the BMCs: -H HOSTLIST or --hostfile FILE")
		}
		if len(o.given(passwordFlags...)) == 0 {
			return usagef("--powerman reads powerman's commands on standard input, so it cannot prompt: give the password with -E or -f")
		}
		return nil
	}
	if !o.fleetMode() {
		if o.wait && len(o.args) == 0 {
			return usagef("--wait waits after a power command (ghmicons ... --wait power on)")
		}
		return nil
	}
	if len(o.args) == 0 {
		return usagef("many hosts (-H %s) take a command (power, bootdev, info); the console attaches to one BMC", o.hostsFlag())
	}
	if g := o.given("bootdev", "power"); len(g) > 0 {
		return usagef("%s apply to a console, which attaches to one BMC", strings.Join(g, " and "))
	}
	return nil
}

// hostsFlag is how messages show the hosts' flag.
func (o *options) hostsFlag() string {
	if o.hostFile != "" {
		return "--hostfile " + o.hostFile
	}
	return o.host
}

// runMany runs a command on many hosts, or serves powerman.
func runMany(o *options, env Env) error {
	hosts, err := o.fleetHosts()
	if err != nil {
		return err
	}
	sc := catchSignals(context.Background())
	defer sc.stop()
	cfg, err := o.sessionConfig(sc.ctx, env.Getenv, env.Stdin, env.Stderr)
	if err != nil {
		return sc.or(err)
	}
	if o.powerman {
		return runPowerman(sc, o, hosts, cfg, env)
	}
	return runFleet(sc, o, hosts, cfg, env)
}
