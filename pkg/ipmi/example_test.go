package ipmi_test

import (
	"context"
	"fmt"
	"log"

	"github.com/ghmicons/ghmicons/pkg/fakebmc"
	"github.com/ghmicons/ghmicons/pkg/ipmi"
)

// Dial a BMC and run a power command through the session: power the
// machine off, then read its power state back. The BMC here is the
// simulated one, on a loopback UDP port.
func ExampleDial() {
	srv, err := fakebmc.Start(fakebmc.Config{})
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()

	ctx := context.Background()
	s, err := ipmi.Dial(ctx, "udp", srv.Addr(), ipmi.Config{Username: "admin", Password: []byte("password")})
	if err != nil {
		log.Fatal(err) // errors.Is(err, ipmi.ErrAuth), ipmi.ErrNoResponse, …
	}
	defer s.Close() // Close Session

	fmt.Println("cipher suite", s.CipherSuite().ID, "as", s.Privilege())
	if err := s.ChassisControl(ctx, ipmi.PowerOff); err != nil {
		log.Fatal(err)
	}
	st, err := s.ChassisStatus(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("power on:", st.PowerOn)
	// Output:
	// cipher suite 17 as administrator
	// power on: false
}

// Choose the next boot device and read it back.
func ExampleSession_SetBootFlags() {
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

	if err := s.SetBootFlags(ctx, ipmi.BootFlags{Device: ipmi.BootPXE, Persistent: true}); err != nil {
		log.Fatal(err)
	}
	f, err := s.BootFlags(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(f)
	// Output:
	// pxe persistent legacy
}
