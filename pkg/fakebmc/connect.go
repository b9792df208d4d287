package fakebmc

import (
	"context"
	"io"
	"net"
	"sync"
	"time"
)

// ConnectHost connects to the machine's serial port as a client: the
// socket of a virtual machine's character device, such as QEMU's
// `-serial unix:/run/vm1.sock,server=on,wait=off` (or
// `-chardev socket,id=s0,path=...,server=on,wait=off`), libvirt's
// <serial type='unix'><source mode='bind' path='...'/></serial>, or a TCP
// one (`-serial tcp:127.0.0.1:4555,server=on,wait=off`).
//
// When the connection ends or cannot be made (the VM is stopped or
// restarting) it dials again after RetryMin, the pause doubling up to
// RetryMax while it keeps failing; a connection that was made brings it
// back to RetryMin. Console input while not connected is discarded, as on
// a serial line with nobody on the other end; the machine's output goes to
// the BMC's history while no console is attached (SOLConfig.OutputBuffer).
type ConnectHost struct {
	Network, Addr string
	// RetryMin and RetryMax bound the pause before a new dial; 0 means
	// 100 ms and 5 s.
	RetryMin, RetryMax time.Duration
	// OnState, if set, is told each time the host connects (true) or the
	// connection ends (false); tests wait on it.
	OnState func(connected bool)

	mu  sync.Mutex
	cur net.Conn
}

// Path is what the host connects to.
func (h *ConnectHost) Path() string { return h.Network + "-connect:" + h.Addr }

func (h *ConnectHost) bounds() (lo, hi time.Duration) {
	lo, hi = h.RetryMin, h.RetryMax
	if lo <= 0 {
		lo = 100 * time.Millisecond
	}
	if hi <= 0 {
		hi = 5 * time.Second
	}
	return lo, max(lo, hi)
}

func (h *ConnectHost) conn() io.Writer {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.cur == nil {
		return nil
	}
	return h.cur
}

func (h *ConnectHost) set(c net.Conn) {
	h.mu.Lock()
	h.cur = c
	h.mu.Unlock()
	if h.OnState != nil {
		h.OnState(c != nil)
	}
}

// Run implements Host.
func (h *ConnectHost) Run(line *Line, done <-chan struct{}) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-done:
		case <-ctx.Done():
		}
		cancel()
		h.mu.Lock()
		if h.cur != nil {
			h.cur.Close()
		}
		h.mu.Unlock()
	}()
	go pump(line, h.conn)
	lo, hi := h.bounds()
	wait := lo
	var d net.Dialer
	for {
		c, err := d.DialContext(ctx, h.Network, h.Addr)
		if err == nil {
			wait = lo
			h.set(c)
			if ctx.Err() != nil { // done came while dialling
				c.Close()
			}
			_, _ = io.Copy(line, c)
			c.Close()
			h.set(nil)
		}
		if ctx.Err() != nil {
			return
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return
		}
		wait = min(2*wait, hi)
	}
}
