package fakebmc_test

import (
	"bytes"
	"context"
	"testing"
	"testing/synctest"

	"github.com/ghmicons/ghmicons/pkg/fakebmc"
	"github.com/ghmicons/ghmicons/pkg/fakebmc/fakebmctest"
	"github.com/ghmicons/ghmicons/pkg/ipmi"
)

// FreeIPMI sets a boot device with `ipmi-config --category=chassis --commit
// --key-pair=Chassis_Boot_Flags:Boot_Device=PXE` (its ipmi-chassis
// --set-boot-flags is broken in 1.6: docs/client-quirks.md). These are the
// System Boot Options requests FreeIPMI 1.6.10 sends for it, byte for byte
// (captured with --debug against fakebmc), and the answers it needs: the
// Get System Boot Options answer for parameter 5 is parameter version 1, the
// selector with bit 7 clear (valid/unlocked) and the five data bytes of the
// boot flags (IPMI v2.0 §28.13, table 28-14); FreeIPMI reads them first and
// writes them back with the device changed, then parameter 3 (valid bit
// clearing) and parameter 4 (boot info acknowledge), both of which must be
// accepted.
func TestFreeIPMIBootFlagsCommit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := fakebmctest.New(t, fakebmc.Config{})
		s := b.Session(t, fakebmctest.Admin())
		ctx := context.Background()
		steps := []struct {
			name string
			cmd  byte
			req  []byte
			want []byte
		}{
			{"get flags", ipmi.CmdGetBootOptions, []byte{0x05, 0x00, 0x00}, []byte{0x01, 0x05, 0x00, 0x00, 0x00, 0x00, 0x00}},
			{"set flags: valid, next boot, PXE", ipmi.CmdSetBootOptions, []byte{0x05, 0x80, 0x04, 0x00, 0x00, 0x00}, []byte{}},
			{"set valid bit clearing", ipmi.CmdSetBootOptions, []byte{0x03, 0x1f}, []byte{}},
			{"set boot info acknowledge", ipmi.CmdSetBootOptions, []byte{0x04, 0xff, 0xff}, []byte{}},
			{"get flags again", ipmi.CmdGetBootOptions, []byte{0x05, 0x00, 0x00}, []byte{0x01, 0x05, 0x80, 0x04, 0x00, 0x00, 0x00}},
		}
		for _, st := range steps {
			got, err := s.Do(ctx, ipmi.NetFnChassis, st.cmd, st.req)
			if err != nil {
				t.Fatalf("%s (% x): %v", st.name, st.req, err)
			}
			if !bytes.Equal(got, st.want) {
				t.Fatalf("%s (% x) = % x, want % x", st.name, st.req, got, st.want)
			}
		}
		if f := b.Server.Chassis().BootFlags(); !f.Valid || f.Persistent || f.Device != ipmi.BootPXE {
			t.Errorf("boot flags after the commit: %+v, want valid, next boot only, PXE", f)
		}
	})
}
