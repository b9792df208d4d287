package command_test

import (
	"context"
	"fmt"
	"log"

	"github.com/ghmicons/ghmicons/pkg/command"
	"github.com/ghmicons/ghmicons/pkg/fakebmc"
	"github.com/ghmicons/ghmicons/pkg/ipmi"
)

// Dial a BMC and run a power command, as ghmicons power status does. The
// BMC here is the simulated one, on a loopback UDP port.
func Example() {
	srv, err := fakebmc.Start(fakebmc.Config{})
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()

	ctx := context.Background()
	s, err := ipmi.Dial(ctx, "udp", srv.Addr(), ipmi.Config{Username: "admin", Password: []byte("password")})
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()

	for _, line := range [][]string{{"power", "status"}, {"power", "off"}, {"power", "status"}} {
		call, err := command.Parse(command.OneShot, line)
		if err != nil {
			log.Fatal(err) // a *command.UsageError: the words do not parse
		}
		res, err := call.Run(ctx, command.OnSession(s))
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%s: %s", call, res.Output)
	}
	// Output:
	// power status: Chassis Power is on
	// power off: Chassis Power Control: off
	// power status: Chassis Power is off
}
