package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/ghmicons/ghmicons/pkg/command"
	"github.com/ghmicons/ghmicons/pkg/fleet"
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
const waitPoll = fleet.DefaultPoll

// fleetMode: the hosts are a hostlist or a file, not one BMC. It depends on
// the syntax only, never on how many hosts the list has, so that a script's
// output does not change form when a list happens to hold one host.
func (o *options) fleetMode() bool {
	return o.hostFile != "" || strings.HasPrefix(o.host, "@") || hostlist.IsList(o.host)
}

// fleetHosts reads the hosts of -H or --hostfile and checks each one's
// address, so that a typo costs no session.
func (o *options) fleetHosts() ([]fleet.Host, error) {
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
	hosts := make([]fleet.Host, len(names))
	for i, n := range names {
		addr, err := ipmi.BMCAddress(n, port)
		if err != nil {
			return nil, usagef("-H: host %s: %s", n, strings.TrimPrefix(err.Error(), "ipmi: "))
		}
		if err := o.checkFamily(addr); err != nil {
			return nil, err
		}
		hosts[i] = fleet.Host{Name: n, Addr: addr}
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

// lineText is a host's result as the words after "host: ": the confirmed
// state after a wait; for power status the state, "ok" for an action the
// BMC took (as ipmipower prints), else the command's output on one line.
// A failure is "error: " and the reason on one line, so that no failure
// can be read as a state.
func lineText(ctx context.Context, call *command.Call, r fleet.Result) string {
	if r.Err != nil {
		err := r.Err
		if se := signalCause(ctx); se != nil {
			err = se
		}
		return "error: " + oneLine(strings.TrimPrefix(err.Error(), "ipmi: "))
	}
	if r.Confirmed != command.PowerUnknown {
		return r.Confirmed.String()
	}
	if call.Command.Name == "power" {
		if call.Status {
			return r.Result.Power.String()
		}
		return "ok"
	}
	lines := strings.Split(strings.TrimSpace(r.Result.Output), "\n")
	for i, l := range lines {
		lines[i] = strings.Join(strings.Fields(l), " ")
	}
	return strings.Join(lines, "; ")
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
func fleetOutcome(ctx context.Context, results []fleet.Result) error {
	var fe fleetError
	fe.total = len(results)
	var codes []int
	for _, r := range results {
		if r.Err != nil {
			fe.failed = append(fe.failed, r.Host.Name)
			code := ExitCode(r.Err)
			if signalCause(ctx) != nil {
				code = ExitSignal
			}
			codes = append(codes, code)
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
func runFleet(sc *signalScope, o *options, hosts []fleet.Host, cfg ipmi.Config, env Env) error {
	fc, closeDebug, err := o.fleetConfig(cfg, env.Stderr)
	if err != nil {
		return err
	}
	defer closeDebug()
	if o.wait {
		fc.Wait = o.waitTimeout
	}
	var werr error
	results := fleet.New(fc).Run(sc.ctx, hosts, o.cmd, func(r fleet.Result) {
		if werr == nil {
			_, werr = fmt.Fprintf(env.Stdout, "%s: %s\n", r.Host.Name, lineText(sc.ctx, o.cmd, r))
		}
	})
	if werr != nil {
		return fmt.Errorf("writing the answers: %w", werr)
	}
	if err := sc.err(); err != nil {
		return err
	}
	return fleetOutcome(sc.ctx, results)
}

// fleetConfig is the fleet of the flags: fan-out, --debug's trace.
func (o *options) fleetConfig(cfg ipmi.Config, stderr io.Writer) (fleet.Config, func(), error) {
	dbg, closeDebug, err := o.debugWriter(stderr)
	if err != nil {
		return fleet.Config{}, nil, err
	}
	if dbg != nil {
		cfg.Trace = (&tracer{w: dbg}).event // one tracer: its lock keeps lines whole
	}
	return fleet.Config{Network: o.network(), Session: cfg, Fanout: o.fanout, Poll: waitPoll}, closeDebug, nil
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
		if o.kgPrompt {
			return usagef("--powerman reads powerman's commands on standard input, so -Y cannot prompt: use -K or --kg-file")
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
