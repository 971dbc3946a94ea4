// Package boltledger is the embedded idempotency ledger: one bbolt file of
// claim records with leases and TTLs, on an injected clock. Every operation
// is one bbolt read-write transaction, so the check and the write are atomic
// (the role DynamoDB's conditional writes play on AWS).
//
// Expired records are treated as absent when read, like DynamoDB items past
// their TTL that have not been swept yet; Sweep deletes them.
package boltledger

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/serverless-elt/elt/internal/fault"
	"github.com/serverless-elt/elt/internal/ledger"
)

var bucketClaims = []byte("claims")

// State of a record.
const (
	StateLeased = "leased"
	StateDone   = "done"
)

// Record is one key's entry.
type Record struct {
	Owner string `json:"owner"`
	State string `json:"state"`
	// LeaseUntil ends a leased record's lease.
	LeaseUntil time.Time `json:"lease_until"`
	// ExpiresAt ends a done record (its TTL).
	ExpiresAt time.Time `json:"expires_at,omitzero"`
}

// live reports whether the record still counts at now.
func (r *Record) live(now time.Time) bool {
	switch r.State {
	case StateLeased:
		return now.Before(r.LeaseUntil)
	case StateDone:
		return r.ExpiresAt.IsZero() || now.Before(r.ExpiresAt)
	}
	return false
}

// Options configure a ledger.
type Options struct {
	// Now is the ledger's clock (default time.Now).
	Now func() time.Time
	// LockTimeout bounds the wait for another process's lock on the file
	// (default 1s).
	LockTimeout time.Duration
}

// Ledger is the bbolt ledger.
type Ledger struct {
	db   *bolt.DB
	path string
	now  func() time.Time
}

var _ ledger.Ledger = (*Ledger)(nil)

// Open opens (creating if needed) the ledger file at path.
func Open(path string, opts Options) (*Ledger, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.LockTimeout <= 0 {
		opts.LockTimeout = time.Second
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("open ledger %s: %w", path, err)
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: opts.LockTimeout})
	if err != nil {
		if errors.Is(err, bolterrors.ErrTimeout) {
			return nil, fault.New(fault.Transient, "boltledger.Open "+path, fmt.Errorf("ledger file is locked by another process: %w", err))
		}
		return nil, fmt.Errorf("open ledger %s: %w", path, err)
	}
	if err := db.Update(func(tx *bolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(bucketClaims)
		return err
	}); err != nil {
		db.Close()
		return nil, fmt.Errorf("init ledger %s: %w", path, err)
	}
	return &Ledger{db: db, path: path, now: opts.Now}, nil
}

// Close closes the file.
func (l *Ledger) Close() error { return l.db.Close() }

func get(b *bolt.Bucket, key string) (*Record, error) {
	v := b.Get([]byte(key))
	if v == nil {
		return nil, nil
	}
	var r Record
	if err := json.Unmarshal(v, &r); err != nil {
		return nil, fmt.Errorf("decode ledger record %q: %w", key, err)
	}
	return &r, nil
}

func put(b *bolt.Bucket, key string, r *Record) error {
	v, err := json.Marshal(r)
	if err != nil {
		return err
	}
	return b.Put([]byte(key), v)
}

func check(op, key, owner string) error {
	if key == "" {
		return fault.New(fault.InvalidArgument, op, errors.New("empty key"))
	}
	if owner == "" {
		return fault.New(fault.InvalidArgument, op, errors.New("empty owner"))
	}
	return nil
}

func opErr(op string, err error) error {
	if err == nil {
		return nil
	}
	var fe *fault.Error
	if errors.As(err, &fe) {
		return err
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fault.New(fault.Canceled, op, err)
	}
	if errors.Is(err, bolterrors.ErrDatabaseNotOpen) {
		return fault.New(fault.Transient, op, err)
	}
	return fault.New(fault.Unknown, op, err)
}

// Claim takes a lease on key (see ledger.Ledger).
func (l *Ledger) Claim(ctx context.Context, key, owner string, leaseFor time.Duration) (ledger.Outcome, error) {
	op := "boltledger.Claim " + key
	if err := check(op, key, owner); err != nil {
		return 0, err
	}
	if leaseFor <= 0 {
		return 0, fault.New(fault.InvalidArgument, op, fmt.Errorf("lease %s", leaseFor))
	}
	if err := ctx.Err(); err != nil {
		return 0, opErr(op, err)
	}
	var out ledger.Outcome
	err := l.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketClaims)
		now := l.now()
		r, err := get(b, key)
		if err != nil {
			return err
		}
		if r != nil && r.live(now) {
			switch {
			case r.State == StateDone:
				out = ledger.Done
				return nil
			case r.Owner != owner:
				out = ledger.Held
				return nil
			}
			// The owner claims again: renew.
		}
		out = ledger.Claimed
		return put(b, key, &Record{Owner: owner, State: StateLeased, LeaseUntil: now.Add(leaseFor)})
	})
	if err != nil {
		return 0, opErr(op, err)
	}
	return out, nil
}

// Complete marks a claimed key done for ttl (ttl <= 0: forever).
func (l *Ledger) Complete(ctx context.Context, key, owner string, ttl time.Duration) error {
	op := "boltledger.Complete " + key
	if err := check(op, key, owner); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return opErr(op, err)
	}
	return opErr(op, l.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketClaims)
		now := l.now()
		r, err := get(b, key)
		if err != nil {
			return err
		}
		switch {
		case r == nil:
			return fault.New(fault.PreconditionFailed, op, errors.New("no claim to complete"))
		case r.Owner != owner:
			return fault.New(fault.PreconditionFailed, op, fmt.Errorf("claimed by %s, not %s", r.Owner, owner))
		case r.State == StateDone && !r.live(now):
			return fault.New(fault.PreconditionFailed, op, errors.New("done record has expired"))
		}
		// Leased by owner (even if the lease ran out, nobody took it over),
		// or a retried Complete of the owner's own done record.
		rec := &Record{Owner: owner, State: StateDone}
		if ttl > 0 {
			rec.ExpiresAt = now.Add(ttl)
		}
		return put(b, key, rec)
	}))
}

// Release gives up a lease so the key can be claimed at once.
func (l *Ledger) Release(ctx context.Context, key, owner string) error {
	op := "boltledger.Release " + key
	if err := check(op, key, owner); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return opErr(op, err)
	}
	return opErr(op, l.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketClaims)
		r, err := get(b, key)
		if err != nil {
			return err
		}
		switch {
		case r == nil:
			return nil
		case r.Owner != owner:
			return fault.New(fault.PreconditionFailed, op, fmt.Errorf("claimed by %s, not %s", r.Owner, owner))
		case r.State != StateLeased:
			return fault.New(fault.PreconditionFailed, op, errors.New("key is done; a release would reopen it"))
		}
		return b.Delete([]byte(key))
	}))
}

// Lookup returns a key's record as stored (expired or not), for inspection.
func (l *Ledger) Lookup(ctx context.Context, key string) (Record, bool, error) {
	var r *Record
	err := l.db.View(func(tx *bolt.Tx) error {
		var err error
		r, err = get(tx.Bucket(bucketClaims), key)
		return err
	})
	if err != nil || r == nil {
		return Record{}, false, opErr("boltledger.Lookup "+key, err)
	}
	return *r, true, nil
}

// Sweep deletes expired records (expired leases and done records past their
// TTL) and returns how many it removed; expiry never depends on it.
func (l *Ledger) Sweep(ctx context.Context) (int, error) {
	n := 0
	err := l.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketClaims)
		now := l.now()
		var dead [][]byte
		err := b.ForEach(func(k, v []byte) error {
			var r Record
			if err := json.Unmarshal(v, &r); err != nil || !r.live(now) {
				dead = append(dead, append([]byte(nil), k...))
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, k := range dead {
			if err := b.Delete(k); err != nil {
				return err
			}
		}
		n = len(dead)
		return nil
	})
	return n, opErr("boltledger.Sweep", err)
}
