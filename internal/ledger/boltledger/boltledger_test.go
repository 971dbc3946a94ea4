package boltledger

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/serverless-elt/elt/internal/fault"
	"github.com/serverless-elt/elt/internal/ledger"
	"github.com/serverless-elt/elt/internal/ledger/ledgertest"
)

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func newClock() *fakeClock { return &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)} }

func open(t *testing.T, path string, opts Options) *Ledger {
	t.Helper()
	l, err := Open(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestContract(t *testing.T) {
	ledgertest.Run(t, func(t *testing.T) ledgertest.Harness {
		clock := newClock()
		path := filepath.Join(t.TempDir(), "ledger.db")
		opts := Options{Now: clock.Now}
		cur := open(t, path, opts)
		t.Cleanup(func() { cur.Close() })
		return ledgertest.Harness{
			Ledger:  cur,
			Advance: clock.Advance,
			Reopen: func(t *testing.T) ledger.Ledger {
				if err := cur.Close(); err != nil {
					t.Fatal(err)
				}
				cur = open(t, path, opts)
				return cur
			},
		}
	})
}

// TestContractRealClock runs the suite as the DynamoDB harness will: real
// clock, short leases, bounded sleeps.
func TestContractRealClock(t *testing.T) {
	if testing.Short() {
		t.Skip("real-clock run sleeps")
	}
	ledgertest.Run(t, func(t *testing.T) ledgertest.Harness {
		l := open(t, filepath.Join(t.TempDir(), "ledger.db"), Options{})
		t.Cleanup(func() { l.Close() })
		return ledgertest.Harness{Ledger: l, Step: 300 * time.Millisecond}
	})
}

func TestSweepAndLookup(t *testing.T) {
	ctx := context.Background()
	clock := newClock()
	l := open(t, filepath.Join(t.TempDir(), "l.db"), Options{Now: clock.Now})
	defer l.Close()
	l.Claim(ctx, "leased", "a", time.Minute)
	l.Claim(ctx, "done", "a", time.Minute)
	l.Complete(ctx, "done", "a", time.Hour)
	l.Claim(ctx, "forever", "a", time.Minute)
	l.Complete(ctx, "forever", "a", 0)
	if r, ok, err := l.Lookup(ctx, "done"); err != nil || !ok || r.State != StateDone || !r.ExpiresAt.Equal(clock.Now().Add(time.Hour)) {
		t.Fatalf("Lookup: %+v %v %v", r, ok, err)
	}
	clock.Advance(2 * time.Minute)
	if n, err := l.Sweep(ctx); err != nil || n != 1 {
		t.Fatalf("Sweep after lease expiry: %d %v, want 1", n, err)
	}
	clock.Advance(2 * time.Hour)
	if n, err := l.Sweep(ctx); err != nil || n != 1 {
		t.Fatalf("Sweep after TTL: %d %v, want 1", n, err)
	}
	if got, _ := l.Claim(ctx, "forever", "b", time.Minute); got != ledger.Done {
		t.Errorf("ttl 0 record: %s, want done forever", got)
	}
}

func TestArgumentsChecked(t *testing.T) {
	ctx := context.Background()
	l := open(t, filepath.Join(t.TempDir(), "l.db"), Options{})
	defer l.Close()
	cases := []struct {
		name string
		err  error
	}{
		{"empty key", func() error { _, err := l.Claim(ctx, "", "a", time.Minute); return err }()},
		{"empty owner", func() error { _, err := l.Claim(ctx, "k", "", time.Minute); return err }()},
		{"zero lease", func() error { _, err := l.Claim(ctx, "k", "a", 0); return err }()},
		{"complete empty owner", l.Complete(ctx, "k", "", time.Hour)},
	}
	for _, tc := range cases {
		if !fault.Is(tc.err, fault.InvalidArgument) {
			t.Errorf("%s: %v, want InvalidArgument", tc.name, tc.err)
		}
	}
	if _, err := Open(l.path, Options{LockTimeout: 50 * time.Millisecond}); !fault.Is(err, fault.Transient) {
		t.Errorf("second open: %v, want Transient", err)
	}
}
