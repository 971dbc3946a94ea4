package embedded

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/serverless-elt/elt/internal/bus"
	"github.com/serverless-elt/elt/internal/bus/localbus"
	"github.com/serverless-elt/elt/internal/chunk"
	"github.com/serverless-elt/elt/internal/ledger/boltledger"
	"github.com/serverless-elt/elt/internal/queue/boltqueue"
)

// Open opens the embedded stack on cfg.DataDir with the embedded backends
// and the real task handlers. Close it to release the data directory's locks.
func Open(ctx context.Context, cfg Config, rules ...Rule) (*Stack, error) {
	cfg = cfg.WithDefaults()
	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		return nil, fmt.Errorf("create data dir: %w", err)
	}
	st, err := OpenStore(cfg)
	if err != nil {
		return nil, err
	}
	var closers []io.Closer
	fail := func(err error) (*Stack, error) {
		for _, c := range closers {
			c.Close()
		}
		return nil, err
	}
	q, err := boltqueue.Open(filepath.Join(cfg.DataDir, "queue.db"), boltqueue.Options{
		VisibilityTimeout: cfg.VisibilityTimeout, MaxReceiveCount: cfg.MaxReceiveCount, Now: cfg.Now, LockTimeout: cfg.LockTimeout,
	})
	if err != nil {
		return fail(fmt.Errorf("open queue: %w", err))
	}
	closers = append(closers, q)
	l, err := boltledger.Open(filepath.Join(cfg.DataDir, "ledger.db"), boltledger.Options{Now: cfg.Now, LockTimeout: cfg.LockTimeout})
	if err != nil {
		return fail(fmt.Errorf("open ledger: %w", err))
	}
	closers = append(closers, l)
	b, err := localbus.Open(filepath.Join(cfg.DataDir, "bus", "events.jsonl"), localbus.Options{Now: cfg.Now})
	if err != nil {
		return fail(fmt.Errorf("open bus: %w", err))
	}
	closers = append(closers, b)
	s, err := New(cfg, Backends{Store: st, Queue: q, Ledger: l, Bus: b, Closers: closers}, Handlers{
		Plan:      chunk.Plan,
		Transform: func(b bus.Bus) (TransformFunc, error) { return newTransform(cfg, st, b) },
	}, rules...)
	if err != nil {
		return fail(err)
	}
	return s, nil
}
