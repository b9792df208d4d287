//go:build linux

package main

import (
	"strings"
	"testing"
)

func TestCheckLog(t *testing.T) {
	tests := []struct {
		name      string
		log       string
		wrote     int
		complete  bool
		gaps      int
		dups      int
		foreign   int
		connects  int
		fragments int
	}{
		{name: "complete, ghmicons note first", log: "[ghmicons] connected to 127.0.0.1:26000\r\nn0001 3\r\nn0001 4\r\nn0001 5\r\n", wrote: 5, complete: true, connects: 1},
		{name: "conman notes", log: "<ConMan> Console [n0001] log opened at 2026-12-02 04:08:37 UTC.\r\n<ConMan> Console [n0001] connected to <127.0.0.1:26001> at 12-02 04:08.\r\nn0001 1\r\nn0001 2\r\n", wrote: 2, complete: true, connects: 1},
		{name: "a note splits a line: no loss", log: "[-- Console up -- Wed Dec  2 04:24:49 2026]\r\nn0001 26\r\nn000\r\n[ghmicons] connected to 127.0.0.1:26001\r\n1 27\r\nn0001 28\r\n", wrote: 28, complete: true, connects: 1, fragments: 2},
		{name: "a line missing", log: "n0001 1\r\nn0001 3\r\n", wrote: 3, gaps: 1},
		{name: "a line twice", log: "n0001 1\r\nn0001 2\r\nn0001 2\r\n", wrote: 2, dups: 1},
		{name: "the tail missing", log: "n0001 1\r\nn0001 2\r\n", wrote: 4},
		{name: "another console's line", log: "n0001 1\r\nn0002 7\r\nn0001 2\r\n", wrote: 2, foreign: 1},
		{name: "a reconnect, nothing lost", log: "[ghmicons] connected to x\r\nn0001 1\r\n[ghmicons] connection lost: y\r\n[ghmicons] connected to x\r\nn0001 2\r\n", wrote: 2, complete: true, connects: 2},
		{name: "nothing logged", log: "", wrote: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := checkLog("n0001", strings.Split(tt.log, "\n"), tt.wrote)
			if got := len(r.problems) == 0; got != tt.complete {
				t.Errorf("complete = %v, want %v (problems %q)", got, tt.complete, r.problems)
			}
			if r.gaps != tt.gaps || r.dups != tt.dups || r.foreign != tt.foreign || r.connects != tt.connects || r.fragments != tt.fragments {
				t.Errorf("gaps, dups, foreign, connects, fragments = %d %d %d %d %d, want %d %d %d %d %d",
					r.gaps, r.dups, r.foreign, r.connects, r.fragments, tt.gaps, tt.dups, tt.foreign, tt.connects, tt.fragments)
			}
		})
	}
}
