// Command fakebmc is ghmicons's simulated BMC: IPMI 2.0 RMCP+ with chassis
// power, boot options and Serial-over-LAN, for trying ghmicons, ipmitool,
// FreeIPMI or any other client without hardware. See fakebmc(1)
// (man/fakebmc.1) and fakebmc --help; the program is internal/fakebmccli.
//
//	go run ./cmd/fakebmc --listen 127.0.0.1:9623 --user admin --password password
package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/pflag"

	"github.com/ghmicons/ghmicons/internal/fakebmccli"
)

func main() {
	if err := fakebmccli.Run(os.Args[1:], os.Stderr); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "fakebmc:", err)
		os.Exit(2)
	}
}
