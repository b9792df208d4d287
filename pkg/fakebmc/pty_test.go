//go:build linux || darwin || freebsd

package fakebmc_test

import (
	"io"
	"os"
	"regexp"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ghmicons/ghmicons/pkg/fakebmc"
)

// The pty host's slave is a raw, binary-clean serial line both ways.
func TestPTYHostCarriesBothWays(t *testing.T) {
	h, err := fakebmc.NewPTYHost()
	if err != nil {
		t.Fatal(err)
	}
	_, sess := udpBMC(t, fakebmc.Config{SOL: fakebmc.SOLConfig{Host: h}})
	c := activateSOL(t, sess)
	tty, err := os.OpenFile(h.Path(), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer tty.Close()
	if _, err := tty.Write([]byte("from the host\n")); err != nil {
		t.Fatal(err)
	}
	// Raw: no \n -> \r\n translation on the way out.
	c.waitRe(regexp.MustCompile("from the host\n"), 0, 10*time.Second)
	c.send("typed\r")
	got := make([]byte, 6)
	if err := tty.SetReadDeadline(time.Now().Add(10 * time.Second)); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(tty, got); err != nil || string(got) != "typed\r" {
		t.Fatalf("host read %q, %v; want %q (no CR translation)", got, err, "typed\r")
	}
}
