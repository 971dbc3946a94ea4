// Package ledger is the idempotency ledger: ingest claims each object version
// (s3://bucket/key#etag) once. The embedded driver is on disk (boltledger);
// the AWS driver is DynamoDB with conditional writes and TTL (dynamoledger).
// Both pass the contract suite in ledger/ledgertest.
package ledger

import (
	"context"
	"time"
)

// Outcome is the result of a claim attempt.
type Outcome int

const (
	// Claimed: the caller now holds the lease and must Complete or Release.
	Claimed Outcome = iota + 1
	// Done: the key was completed before; the caller must do nothing.
	Done
	// Held: another worker holds an unexpired lease; try again later.
	Held
)

func (o Outcome) String() string {
	switch o {
	case Claimed:
		return "claimed"
	case Done:
		return "done"
	case Held:
		return "held"
	default:
		return "unknown"
	}
}

// Ledger records which keys have been processed.
type Ledger interface {
	// Claim takes a lease on key for leaseFor. A lease left by a crashed
	// worker expires and can then be claimed again. owner identifies the
	// claimant so that only it can Complete or Release.
	Claim(ctx context.Context, key, owner string, leaseFor time.Duration) (Outcome, error)
	// Complete marks a claimed key done; the record expires after ttl
	// (after which the key could be processed again).
	Complete(ctx context.Context, key, owner string, ttl time.Duration) error
	// Release gives up a lease so the key can be claimed at once (used when
	// the work failed).
	Release(ctx context.Context, key, owner string) error
}
