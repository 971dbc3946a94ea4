package localnotify

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/serverless-elt/elt/internal/fault"
)

func newOutbox(t *testing.T) *Outbox {
	t.Helper()
	n := 0
	var mu sync.Mutex
	o, err := New(filepath.Join(t.TempDir(), "notify", "outbox.jsonl"), Options{
		Now:   func() time.Time { return time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC) },
		NewID: func() string { mu.Lock(); defer mu.Unlock(); n++; return fmt.Sprint("n-", n) },
	})
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func TestPublishAndList(t *testing.T) {
	ctx := context.Background()
	o := newOutbox(t)
	if l, err := o.List(ctx); err != nil || len(l) != 0 {
		t.Fatalf("empty outbox: %v %v", l, err)
	}
	id, err := o.Publish(ctx, "Quality gate failed: shipments dt=2025-01-01", "2 of 5 expectations failed\nsee results/...")
	if err != nil || id != "n-1" {
		t.Fatalf("Publish: %q %v", id, err)
	}
	if _, err := o.Publish(ctx, "", "no subject is fine"); err != nil {
		t.Fatal(err)
	}
	l, err := o.List(ctx)
	if err != nil || len(l) != 2 {
		t.Fatalf("List: %+v %v", l, err)
	}
	if l[0].Subject != "Quality gate failed: shipments dt=2025-01-01" || !strings.Contains(l[0].Message, "\n") || !l[0].Time.Equal(time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)) {
		t.Errorf("first notification %+v", l[0])
	}
}

func TestPublishValidates(t *testing.T) {
	o := newOutbox(t)
	cases := []struct{ name, subject, message string }{
		{"empty message", "s", ""},
		{"long subject", strings.Repeat("s", 101), "m"},
		{"newline in subject", "a\nb", "m"},
		{"non-ASCII subject", "café", "m"},
		{"huge message", "s", strings.Repeat("m", 256*1024+1)},
	}
	for _, tc := range cases {
		if _, err := o.Publish(context.Background(), tc.subject, tc.message); !fault.Is(err, fault.InvalidArgument) {
			t.Errorf("%s: %v, want InvalidArgument", tc.name, err)
		}
	}
}

func TestConcurrentPublishAndTornTail(t *testing.T) {
	ctx := context.Background()
	o := newOutbox(t)
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := o.Publish(ctx, "s", fmt.Sprint("message ", i)); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	f, _ := os.OpenFile(o.Path(), os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(`{"id":"torn","mess`)
	f.Close()
	l, err := o.List(ctx)
	if err != nil || len(l) != 20 {
		t.Fatalf("List: %d %v", len(l), err)
	}
	// The next publish cuts the torn line instead of gluing onto it.
	if _, err := o.Publish(ctx, "s", "after the crash"); err != nil {
		t.Fatal(err)
	}
	l, err = o.List(ctx)
	if err != nil || len(l) != 21 || l[20].Message != "after the crash" {
		t.Fatalf("List after a publish over a torn tail: %d %v", len(l), err)
	}
}
