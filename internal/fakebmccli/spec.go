package fakebmccli

import (
	"context"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/ghmicons/ghmicons/pkg/fakebmc"
	"github.com/ghmicons/ghmicons/pkg/impair"
	"github.com/ghmicons/ghmicons/pkg/ipmi"
)

// bmcSpec is everything that makes one BMC of the rack: the flags make
// one (or --count of them), a config file any number. Two specs that are
// equal (reflect.DeepEqual) make the same BMC, which is how a reload knows
// which BMCs to leave alone.
type bmcSpec struct {
	Name, Listen      string
	Users             []fakebmc.User
	Kg                []byte
	Suites            []uint8
	SessionTimeout    time.Duration
	NoCipherSuiteList bool
	RejectBootParam0  bool
	Serial            string // with %(name)s and {name} already substituted
	SOLInbound        int
	History           int               // SOLConfig.OutputBuffer; 0: the default
	Hooks             map[string]string // by hookKeys, "" or missing: none
	Provider          *provider         // nil: the built-in chassis (and Hooks)
	HookTimeout       time.Duration
	ChassisDelay      time.Duration
	Faults            impair.Config
	ReceiveBuffer     int
}

// expandName substitutes the BMC's name for %(name)s (shipmi's spelling)
// and {name} in s.
func expandName(s, name string) string {
	return strings.NewReplacer("%(name)s", name, "{name}", name).Replace(s)
}

// providerName is what --list shows in its PROVIDER column.
func (sp *bmcSpec) providerName() string {
	switch {
	case sp.Provider != nil:
		return sp.Provider.Path
	case len(sp.Hooks) > 0:
		return "hooks"
	}
	return "builtin"
}

// build turns a spec into what the rack serves: the chassis with its
// hooks or provider, the serial host, the socket's impairment. logw gets
// the hooks' output and, with verbose, the events.
func (sp *bmcSpec) build(logw io.Writer, verbose, named bool) (fakebmc.RackBMC, error) {
	cfg := fakebmc.Config{Users: sp.Users, Kg: sp.Kg, CipherSuites: sp.Suites, SessionTimeout: sp.SessionTimeout,
		NoCipherSuiteList: sp.NoCipherSuiteList, RejectBootParam0: sp.RejectBootParam0, ReceiveBuffer: sp.ReceiveBuffer}
	chassis := fakebmc.NewChassis()
	chassis.HookTimeout = sp.HookTimeout
	if sp.Provider != nil {
		sp.Provider.attach(chassis, sp.Name, logw)
	} else {
		sp.attachHooks(chassis, logw)
	}
	cfg.Chassis = chassis
	cfg.Faults.ChassisDelay = sp.ChassisDelay
	serial := sp.Serial
	if serial == "" {
		serial = "demo"
	}
	host, err := fakebmc.ParseSerial(serial)
	if err != nil {
		if named {
			return fakebmc.RackBMC{}, fmt.Errorf("BMC %q: %w", sp.Name, err)
		}
		return fakebmc.RackBMC{}, err
	}
	cfg.SOL.Host = host
	if sp.SOLInbound > 0 {
		cfg.SOL.InboundSize = uint16(sp.SOLInbound)
	}
	cfg.SOL.OutputBuffer = sp.History
	if verbose {
		prefix := ""
		if named {
			prefix = sp.Name + ": "
		}
		cfg.OnEvent = func(e fakebmc.Event) {
			fmt.Fprintf(logw, "%s fakebmc: %s%s session 0x%08x %s\n", e.Time.Format(time.RFC3339), prefix, e.Kind, e.SessionID, e.Detail)
		}
	}
	b := fakebmc.RackBMC{Name: sp.Name, Listen: sp.Listen, Config: cfg, Info: sp.providerName()}
	if f := sp.Faults; f.Drop > 0 || f.Duplicate > 0 || f.Reorder > 0 || f.Corrupt > 0 || f.Delay > 0 {
		b.Wrap = func(pc net.PacketConn) net.PacketConn { return impair.Wrap(pc, f) }
	}
	return b, nil
}

// attachHooks installs the KEY=COMMAND hooks (the *-cmd flags, --provider
// in its old form) on chassis. %(name)s in a command is the BMC's name.
func (sp *bmcSpec) attachHooks(chassis *fakebmc.Chassis, logw io.Writer) {
	powerKeys := map[ipmi.ChassisAction]string{ipmi.PowerOn: "power-on", ipmi.PowerOff: "power-off", ipmi.PowerCycle: "power-cycle",
		ipmi.HardReset: "power-reset", ipmi.SoftShutdown: "power-soft", ipmi.DiagInterrupt: "power-diag"}
	env := []string{"GHMICONS_BMC=" + sp.Name}
	hook := func(key string) string { return expandName(sp.Hooks[key], sp.Name) }
	for _, key := range powerKeys {
		if sp.Hooks[key] != "" {
			chassis.Hook = func(ctx context.Context, a ipmi.ChassisAction) error {
				return runHook(ctx, logw, hook(powerKeys[a]), append(env, "GHMICONS_ACTION="+a.String())...)
			}
			break
		}
	}
	if sp.Hooks["bootdev"] != "" {
		chassis.BootHook = func(ctx context.Context, b ipmi.BootFlags) error {
			return runHook(ctx, logw, hook("bootdev"), append(env, "GHMICONS_BOOTDEV="+b.Device.String(),
				fmt.Sprintf("GHMICONS_BOOT_PERSISTENT=%v", b.Persistent), fmt.Sprintf("GHMICONS_BOOT_EFI=%v", b.EFI))...)
		}
	}
}

// rackAddrs returns n consecutive UDP addresses starting at listen
// (host:port). Port 0 gives every BMC a port of its own choosing.
func rackAddrs(listen string, n int) ([]string, error) {
	host, ps, err := net.SplitHostPort(listen)
	if err != nil {
		return nil, fmt.Errorf("--listen %q: %w", listen, err)
	}
	port, err := strconv.Atoi(ps)
	if err != nil || port < 0 || port > 65535 {
		return nil, fmt.Errorf("--listen %q: bad port", listen)
	}
	if port != 0 && port+n-1 > 65535 {
		return nil, fmt.Errorf("--count %d from port %d goes past port 65535", n, port)
	}
	out := make([]string, n)
	for i := range out {
		p := port
		if p != 0 {
			p += i
		}
		out[i] = net.JoinHostPort(host, strconv.Itoa(p))
	}
	return out, nil
}

// rackNames returns the n names pattern makes from 1, 2, ... n (a printf
// pattern with one integer verb: bmc%d, node%03d).
func rackNames(pattern string, n int) ([]string, error) {
	out := make([]string, n)
	seen := map[string]bool{}
	for i := range out {
		name := fmt.Sprintf(pattern, i+1)
		if strings.Contains(name, "%!") {
			return nil, fmt.Errorf("--name-pattern %q: want one integer verb such as %%d or %%03d", pattern)
		}
		if seen[name] {
			return nil, fmt.Errorf("--name-pattern %q: gives %q twice (it needs %%d)", pattern, name)
		}
		seen[name] = true
		out[i] = name
	}
	return out, nil
}
