// Package ledgertest is the contract suite every ledger.Ledger driver must
// pass: the embedded bbolt ledger and the DynamoDB ledger run the same
// subtests.
//
// Semantics pinned here:
//   - Claim on a new key, an expired lease, or an expired done record is
//     Claimed; on a live lease of another owner it is Held; on a live done
//     record it is Done. A claim by the lease's own owner renews it (so a
//     retried Claim whose first response was lost does not lock the owner out).
//   - Complete and Release need the caller to be the key's current owner and
//     the record to be leased, else fault.PreconditionFailed. Complete by the
//     owner of an already-done record succeeds (idempotent retry). Release of
//     a key with no record succeeds.
//   - TTL expiry must be checked on read: DynamoDB deletes expired items
//     lazily (up to days later), so an expired record counts as absent.
package ledgertest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/serverless-elt/elt/internal/fault"
	"github.com/serverless-elt/elt/internal/ledger"
)

// Harness is one fresh, empty ledger for one subtest.
type Harness struct {
	Ledger ledger.Ledger
	// Advance moves the ledger's clock forward. Nil means a real clock: the
	// suite then uses Step as lease and TTL and sleeps.
	Advance func(time.Duration)
	// Step is the shortest lease/TTL the backend honours on a real clock
	// (default 1s).
	Step time.Duration
	// Reopen, when set, closes the ledger and opens it again on the same
	// storage; the durability test runs with it.
	Reopen func(t *testing.T) ledger.Ledger
}

// MakeHarness returns a fresh harness; it registers its own cleanup on t.
type MakeHarness func(t *testing.T) Harness

// Run runs the whole contract suite.
func Run(t *testing.T, newHarness MakeHarness) {
	tests := []struct {
		name string
		fn   func(*testing.T, *Harness)
	}{
		{"ClaimHeldExpiredClaimed", testLeaseExpiry},
		{"CompleteThenDone", testComplete},
		{"SameOwnerRenews", testSameOwner},
		{"Release", testRelease},
		{"ForeignOwnerRefused", testForeignOwner},
		{"TTLExpiry", testTTL},
		{"KeysIndependent", testKeys},
		{"ConcurrentClaims", testConcurrent},
		{"SurvivesReopen", testReopen},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			if h.Step <= 0 {
				h.Step = time.Second
			}
			tc.fn(t, &h)
		})
	}
}

func (h *Harness) lease() time.Duration {
	if h.Advance != nil {
		return 5 * time.Minute
	}
	return h.Step
}

func (h *Harness) ttl() time.Duration {
	if h.Advance != nil {
		return 24 * time.Hour
	}
	return 2 * h.Step
}

// pass lets d (and a margin) elapse on the ledger's clock.
func (h *Harness) pass(d time.Duration) {
	if h.Advance != nil {
		h.Advance(d + time.Second)
		return
	}
	time.Sleep(d + h.Step/2)
}

const key = "s3://lake/bronze/dt=2025-01-01/part 1.jsonl#0123456789abcdef0123456789abcdef"

func claim(t *testing.T, l ledger.Ledger, k, owner string, lease time.Duration, want ledger.Outcome) {
	t.Helper()
	got, err := l.Claim(context.Background(), k, owner, lease)
	if err != nil {
		t.Fatalf("Claim %s by %s: %v", k, owner, err)
	}
	if got != want {
		t.Fatalf("Claim %s by %s = %s, want %s", k, owner, got, want)
	}
}

func ok(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func refused(t *testing.T, what string, err error) {
	t.Helper()
	if !fault.Is(err, fault.PreconditionFailed) {
		t.Fatalf("%s: %v (code %s), want PreconditionFailed", what, err, fault.CodeOf(err))
	}
}

func testLeaseExpiry(t *testing.T, h *Harness) {
	claim(t, h.Ledger, key, "worker-a", h.lease(), ledger.Claimed)
	claim(t, h.Ledger, key, "worker-b", h.lease(), ledger.Held)
	// worker-a crashed; its lease runs out and worker-b takes over.
	h.pass(h.lease())
	claim(t, h.Ledger, key, "worker-b", h.lease(), ledger.Claimed)
	claim(t, h.Ledger, key, "worker-a", h.lease(), ledger.Held)
}

func testComplete(t *testing.T, h *Harness) {
	ctx := context.Background()
	claim(t, h.Ledger, key, "a", h.lease(), ledger.Claimed)
	ok(t, "Complete", h.Ledger.Complete(ctx, key, "a", h.ttl()))
	claim(t, h.Ledger, key, "b", h.lease(), ledger.Done)
	claim(t, h.Ledger, key, "a", h.lease(), ledger.Done)
	// Past the lease (but within the TTL) it is still done.
	if h.Advance != nil {
		h.pass(h.lease())
		claim(t, h.Ledger, key, "c", h.lease(), ledger.Done)
	}
	// A retried Complete by the owner is harmless.
	ok(t, "second Complete by the owner", h.Ledger.Complete(ctx, key, "a", h.ttl()))
	// Nobody can reopen a done key by releasing it.
	refused(t, "Release of a done key", h.Ledger.Release(ctx, key, "a"))
	claim(t, h.Ledger, key, "b", h.lease(), ledger.Done)
}

func testSameOwner(t *testing.T, h *Harness) {
	claim(t, h.Ledger, key, "a", h.lease(), ledger.Claimed)
	if h.Advance != nil {
		h.Advance(h.lease() / 2)
	}
	claim(t, h.Ledger, key, "a", h.lease(), ledger.Claimed)
	if h.Advance != nil {
		// Renewed: the first lease's end has passed, the second has not.
		h.Advance(h.lease()/2 + time.Second)
		claim(t, h.Ledger, key, "b", h.lease(), ledger.Held)
	}
}

func testRelease(t *testing.T, h *Harness) {
	ctx := context.Background()
	claim(t, h.Ledger, key, "a", h.lease(), ledger.Claimed)
	ok(t, "Release", h.Ledger.Release(ctx, key, "a"))
	// Claimable at once, without waiting for the lease.
	claim(t, h.Ledger, key, "b", h.lease(), ledger.Claimed)
	ok(t, "Release of a key never claimed", h.Ledger.Release(ctx, "s3://never/claimed#x", "a"))
	ok(t, "Complete after re-claim", h.Ledger.Complete(ctx, key, "b", h.ttl()))
	claim(t, h.Ledger, key, "a", h.lease(), ledger.Done)
}

func testForeignOwner(t *testing.T, h *Harness) {
	ctx := context.Background()
	refused(t, "Complete of a key never claimed", h.Ledger.Complete(ctx, key, "a", h.ttl()))
	claim(t, h.Ledger, key, "a", h.lease(), ledger.Claimed)
	refused(t, "Complete by another owner", h.Ledger.Complete(ctx, key, "b", h.ttl()))
	refused(t, "Release by another owner", h.Ledger.Release(ctx, key, "b"))
	// The refusals changed nothing: a still holds it.
	claim(t, h.Ledger, key, "b", h.lease(), ledger.Held)
	// a's lease lapses and b claims: a's late Complete must not land.
	h.pass(h.lease())
	claim(t, h.Ledger, key, "b", h.lease(), ledger.Claimed)
	refused(t, "late Complete by the previous owner", h.Ledger.Complete(ctx, key, "a", h.ttl()))
	refused(t, "late Release by the previous owner", h.Ledger.Release(ctx, key, "a"))
	ok(t, "Complete by the new owner", h.Ledger.Complete(ctx, key, "b", h.ttl()))
}

func testTTL(t *testing.T, h *Harness) {
	ctx := context.Background()
	claim(t, h.Ledger, key, "a", h.lease(), ledger.Claimed)
	ok(t, "Complete", h.Ledger.Complete(ctx, key, "a", h.ttl()))
	if h.Advance != nil {
		h.Advance(h.ttl() - time.Second)
		claim(t, h.Ledger, key, "b", h.lease(), ledger.Done)
		h.Advance(2 * time.Second)
	} else {
		h.pass(h.ttl())
	}
	// The done record expired: the key may be processed again.
	claim(t, h.Ledger, key, "b", h.lease(), ledger.Claimed)
	claim(t, h.Ledger, key, "c", h.lease(), ledger.Held)
}

func testKeys(t *testing.T, h *Harness) {
	keys := []string{key, key + "x", "s3://lake/bronze/ünïcode.jsonl#e", "s3://lake/a#1", "s3://lake/a#2"}
	for i, k := range keys {
		claim(t, h.Ledger, k, fmt.Sprint("owner-", i), h.lease(), ledger.Claimed)
	}
	for _, k := range keys {
		claim(t, h.Ledger, k, "someone-else", h.lease(), ledger.Held)
	}
	ok(t, "Complete one", h.Ledger.Complete(context.Background(), keys[3], "owner-3", h.ttl()))
	claim(t, h.Ledger, keys[3], "x", h.lease(), ledger.Done)
	claim(t, h.Ledger, keys[4], "x", h.lease(), ledger.Held)
}

func testConcurrent(t *testing.T, h *Harness) {
	const workers, keys = 8, 20
	var mu sync.Mutex
	winners := map[string][]string{}
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			owner := fmt.Sprint("worker-", w)
			for k := 0; k < keys; k++ {
				kk := fmt.Sprintf("s3://lake/k%02d#etag", k)
				got, err := h.Ledger.Claim(context.Background(), kk, owner, h.lease())
				if err != nil {
					errs <- err
					return
				}
				if got == ledger.Claimed {
					mu.Lock()
					winners[kk] = append(winners[kk], owner)
					mu.Unlock()
				} else if got != ledger.Held {
					errs <- fmt.Errorf("%s: %s", kk, got)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for k := 0; k < keys; k++ {
		kk := fmt.Sprintf("s3://lake/k%02d#etag", k)
		if len(winners[kk]) != 1 {
			t.Errorf("%s claimed by %v, want exactly one winner", kk, winners[kk])
		}
	}
}

func testReopen(t *testing.T, h *Harness) {
	if h.Reopen == nil {
		t.Skip("harness cannot reopen its ledger")
	}
	ctx := context.Background()
	claim(t, h.Ledger, "done", "a", h.lease(), ledger.Claimed)
	ok(t, "Complete", h.Ledger.Complete(ctx, "done", "a", h.ttl()))
	claim(t, h.Ledger, "leased", "a", h.lease(), ledger.Claimed)
	l := h.Reopen(t)
	claim(t, l, "done", "b", h.lease(), ledger.Done)
	claim(t, l, "leased", "b", h.lease(), ledger.Held)
	ok(t, "Complete across the restart", l.Complete(ctx, "leased", "a", h.ttl()))
	claim(t, l, "leased", "b", h.lease(), ledger.Done)
}
