// Command impairproxy is the UDP impairment proxy of the benchmark
// (scripts/bench/bench.py): it listens on a loopback UDP port, forwards every
// client's datagrams to a BMC and the BMC's answers back, and drops or
// duplicates datagrams in both directions with a seeded generator
// (pkg/impair), so that every client meets the same kind of loss.
//
//	impairproxy --listen 127.0.0.1:23083 --upstream 127.0.0.1:11098 --drop 0.2 --seed 7 --max-duration 300s
//
// Each client address gets its own upstream socket (a tiny NAT), so the BMC
// sees one peer per client. Faults are applied on the client-facing socket:
// each datagram from a client and each datagram to a client is dropped with
// probability --drop and duplicated with probability --duplicate.
//
// Both addresses must be loopback. The proxy exits after --max-duration (a
// bound, so a forgotten proxy cannot outlive the benchmark), on SIGTERM or
// SIGINT, and prints one line of counters on stderr when it exits; with
// --stats FILE it also writes them there as JSON.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/ghmicons/ghmicons/pkg/impair"
)

// counters: datagrams that reached the proxy from each side, and clients seen.
type counters struct {
	FromClients, ToClients, Clients atomic.Uint64
}

func loopback(addr string) (*net.UDPAddr, error) {
	a, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return nil, err
	}
	if a.IP == nil || !a.IP.IsLoopback() {
		return nil, fmt.Errorf("%s is not a loopback address", addr)
	}
	return a, nil
}

func main() {
	listen := flag.String("listen", "", "loopback UDP address to listen on (clients connect here)")
	upstream := flag.String("upstream", "", "loopback UDP address of the BMC")
	drop := flag.Float64("drop", 0, "probability of dropping a datagram, each way")
	dup := flag.Float64("duplicate", 0, "probability of duplicating a datagram, each way")
	seed := flag.Uint64("seed", 1, "random seed")
	maxDur := flag.Duration("max-duration", 10*time.Minute, "exit after this long")
	readyFile := flag.String("ready-file", "", "write the listening address here once ready")
	statsFile := flag.String("stats", "", "write counters as JSON here at exit")
	flag.Parse()

	fail := func(err error) {
		fmt.Fprintln(os.Stderr, "impairproxy:", err)
		os.Exit(2)
	}
	if *drop < 0 || *drop > 1 || *dup < 0 || *dup > 1 {
		fail(errors.New("--drop and --duplicate must be within 0..1"))
	}
	if *maxDur <= 0 {
		fail(errors.New("--max-duration must be positive"))
	}
	la, err := loopback(*listen)
	if err != nil {
		fail(fmt.Errorf("--listen: %w", err))
	}
	ua, err := loopback(*upstream)
	if err != nil {
		fail(fmt.Errorf("--upstream: %w", err))
	}
	pc, err := net.ListenUDP("udp", la)
	if err != nil {
		fail(err)
	}
	ic := impair.Wrap(pc, impair.Config{Drop: *drop, Duplicate: *dup, Seed: *seed})

	var st counters
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), *maxDur)
	defer cancel()
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	reason := "max-duration"
	var reasonMu sync.Mutex
	go func() {
		select {
		case s := <-sigs:
			reasonMu.Lock()
			reason = "signal " + s.String()
			reasonMu.Unlock()
			cancel()
		case <-ctx.Done():
		}
	}()

	var mu sync.Mutex
	peers := map[string]*net.UDPConn{} // client address -> its upstream socket
	localIP := &net.UDPAddr{IP: ua.IP}

	go func() {
		buf := make([]byte, 65536)
		for {
			n, from, err := ic.ReadFrom(buf)
			if err != nil {
				cancel()
				return
			}
			st.FromClients.Add(1)
			key := from.String()
			mu.Lock()
			up := peers[key]
			if up == nil {
				up, err = net.DialUDP("udp", localIP, ua)
				if err != nil {
					mu.Unlock()
					fmt.Fprintln(os.Stderr, "impairproxy: upstream:", err)
					continue
				}
				peers[key] = up
				st.Clients.Add(1)
				go func(up *net.UDPConn, client net.Addr) {
					b := make([]byte, 65536)
					for {
						n, err := up.Read(b)
						if err != nil {
							if errors.Is(err, net.ErrClosed) {
								return
							}
							// ICMP port unreachable while the BMC restarts: keep going.
							if ctx.Err() != nil {
								return
							}
							time.Sleep(10 * time.Millisecond)
							continue
						}
						st.ToClients.Add(1)
						_, _ = ic.WriteTo(b[:n], client)
					}
				}(up, from)
			}
			mu.Unlock()
			_, _ = up.Write(buf[:n])
		}
	}()

	if *readyFile != "" {
		tmp := *readyFile + ".tmp"
		if err := os.WriteFile(tmp, []byte(pc.LocalAddr().String()+"\n"), 0o644); err != nil {
			fail(err)
		}
		if err := os.Rename(tmp, *readyFile); err != nil {
			fail(err)
		}
	}

	<-ctx.Done()
	pc.Close()
	mu.Lock()
	for _, up := range peers {
		up.Close()
	}
	mu.Unlock()

	s := ic.Stats()
	reasonMu.Lock()
	why := reason
	reasonMu.Unlock()
	elapsed := time.Since(start).Seconds()
	fmt.Fprintf(os.Stderr, "impairproxy: %s after %.1fs: clients=%d from-clients=%d to-clients=%d dropped=%d duplicated=%d (drop=%g dup=%g seed=%d)\n",
		why, elapsed, st.Clients.Load(), st.FromClients.Load(), st.ToClients.Load(), s.Dropped, s.Duplicated, *drop, *dup, *seed)
	if *statsFile != "" {
		out := map[string]any{
			"listen": la.String(), "upstream": ua.String(), "drop": *drop, "duplicate": *dup,
			"seed": *seed, "clients": st.Clients.Load(), "from_clients": st.FromClients.Load(),
			"to_clients": st.ToClients.Load(), "dropped": s.Dropped, "duplicated": s.Duplicated,
			"elapsed_seconds": elapsed, "exit_reason": why,
		}
		b, _ := json.Marshal(out)
		_ = os.WriteFile(*statsFile, append(b, '\n'), 0o644)
	}
}
