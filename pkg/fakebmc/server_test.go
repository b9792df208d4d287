package fakebmc_test

import (
	"testing"
	"testing/synctest"

	"github.com/ghmicons/ghmicons/pkg/fakebmc"
	"github.com/ghmicons/ghmicons/pkg/memnet"
)

// Start makes Addr known at once, and a Close that comes before the
// serving goroutine has run still returns (it waited for a Serve that had
// nothing to close: a deadlock).
func TestStartThenCloseAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var n memnet.Network
		pc, err := n.Listen("bmc")
		if err != nil {
			t.Fatal(err)
		}
		srv := fakebmc.New(fakebmc.Config{})
		srv.Start(pc)
		if got := srv.Addr(); got != "bmc" {
			t.Errorf("Addr() = %q right after Start, want bmc", got)
		}
		srv.Close()
		if _, err := n.Listen("bmc"); err != nil {
			t.Errorf("the address is still taken after Close: %v", err)
		}
	})
}
