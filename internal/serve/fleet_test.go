package serve

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
)

// A console stopped (reload, shutdown) while its staggered start is due or
// under way: stop waits for the start function, so that the console's Close
// never runs alongside its Start, and nothing of the entry (Errorf, the
// Writer) runs after Apply or Close has returned. Before, the start could
// run after the stop and say "console: already started" or "console:
// closed" through Errorf, even after the test had ended (the rig's t.Logf
// racing with the test's end).
func TestStopDuringStart(t *testing.T) {
	r := newRigConfig(t, 8, "")
	var (
		mu   sync.Mutex
		msgs []string
	)
	errorf := func(f string, a ...any) {
		mu.Lock()
		defer mu.Unlock()
		msgs = append(msgs, fmt.Sprintf(f, a...))
	}
	changed := strings.ReplaceAll(readFile(t, r.config), `timeout = "250ms"`, `timeout = "300ms"`)
	writeFile(t, r.config, changed)
	cfg2, err := Load(r.config, func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	for i := 0; i < 20; i++ {
		f := &Fleet{Dial: r.dial, Rand: func() float64 { return 0 }, Errorf: errorf}
		if err := f.Start(ctx, r.cfg); err != nil {
			t.Fatal(err)
		}
		// Every console changed: each is stopped, most before or while
		// its start runs, and a new one started.
		if err := f.Apply(ctx, cfg2); err != nil {
			t.Fatal(err)
		}
		if err := f.Close(ctx); err != nil {
			t.Fatal(err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(msgs) > 0 {
		t.Fatalf("%d background errors, the first: %s", len(msgs), msgs[0])
	}
}
