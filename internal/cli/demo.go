package cli

import (
	"fmt"
	"net"

	"github.com/ghmicons/ghmicons/pkg/fakebmc"
	"github.com/ghmicons/ghmicons/pkg/ipmi"
)

// runDemo starts the simulated BMC in-process on a loopback port, with the
// demo host, and attaches to it over real RMCP+ with cipher suite 17.
func runDemo(o *options, env Env) error {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := fakebmc.New(fakebmc.Config{SOL: fakebmc.SOLConfig{Host: fakebmc.NewDemoHost()}})
	go srv.Serve(pc) //nolint:errcheck // Close ends it
	defer srv.Close()
	addr := pc.LocalAddr().String()
	o.host = addr
	o.port = 0
	cfg := ipmi.Config{Username: "admin", Password: []byte("password"), CipherSuites: []uint8{17}}
	if o.fs.Changed("cipher-suite") && o.suite > 0 {
		cfg.CipherSuites = []uint8{uint8(o.suite)}
	}
	return attach(o, addr, cfg, env, func(c *frontend) {
		c.say("demo: a simulated BMC is serving %s (user admin, password password).\n"+
			"Try: log in as root, type 'help'; %sC then 'power cycle' or 'bootdev pxe'; %s? for help; %s. to quit.\n"+
			"Other tools can use it too while this runs, e.g. ipmitool -I lanplus -H 127.0.0.1 -p %d -U admin -P password power status",
			addr, esc(c), esc(c), esc(c), pc.LocalAddr().(*net.UDPAddr).Port)
	})
}

func esc(c *frontend) string {
	if !c.esc.Enabled() {
		return "(escapes off) "
	}
	return fmt.Sprintf("%c", c.esc.Char())
}
