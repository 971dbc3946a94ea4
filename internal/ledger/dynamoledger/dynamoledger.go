// Package dynamoledger is the ledger.Ledger driver for DynamoDB
// (aws-sdk-go-v2). It passes the contract suite in ledger/ledgertest
// against dynalite on loopback.
//
// Table: hash key "pk" (string); TTL attribute "expires_at" (epoch
// seconds). DynamoDB deletes expired items lazily (typically within days),
// so every condition also compares the millisecond expiry "exp_ms" with the
// caller's clock: an expired record counts as absent.
//
// Item attributes: pk, status ("leased" | "done"), owner, lease_until (ms,
// while leased), exp_ms (ms; the lease end while leased, the done record's
// end once done), expires_at (s, for TTL).
//
// The clock is the caller's (Options.Now), not the server's: DynamoDB
// conditions cannot read a server clock, and an injected clock makes the
// contract suite deterministic.
//
// IAM: dynamodb:PutItem, UpdateItem, DeleteItem, and GetItem (read only to
// tell Held from Done when a server does not return the item on a failed
// condition).
package dynamoledger

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/serverless-elt/elt/internal/awsconf"
	"github.com/serverless-elt/elt/internal/fault"
	"github.com/serverless-elt/elt/internal/ledger"
)

// Attribute names and values.
const (
	attrPK         = "pk"
	attrStatus     = "status"
	attrOwner      = "owner"
	attrLeaseUntil = "lease_until"
	attrExpMS      = "exp_ms"
	// TTLAttribute is the table's TTL attribute (epoch seconds).
	TTLAttribute = "expires_at"
	statusLeased = "leased"
	statusDone   = "done"
)

// DefaultTimeout bounds one call.
const DefaultTimeout = 10 * time.Second

// Options configure a ledger.
type Options struct {
	Table   string
	Now     func() time.Time
	Timeout time.Duration
}

// Ledger is a DynamoDB-backed ledger.Ledger.
type Ledger struct {
	c    *dynamodb.Client
	opts Options
}

var _ ledger.Ledger = (*Ledger)(nil)

// New returns a ledger over table.
func New(c *dynamodb.Client, opts Options) (*Ledger, error) {
	if opts.Table == "" {
		return nil, errors.New("dynamoledger: Table is required")
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	return &Ledger{c: c, opts: opts}, nil
}

// NewClient builds the DynamoDB client for cfg.
func NewClient(cfg aws.Config) *dynamodb.Client { return dynamodb.NewFromConfig(cfg) }

func n(v int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(v, 10)}
}
func s(v string) types.AttributeValue {
	return &types.AttributeValueMemberS{Value: v}
}

// ttlSeconds is the TTL value for an expiry: rounded up, so DynamoDB never
// deletes a record before it expires.
func ttlSeconds(ms int64) int64 { return (ms + 999) / 1000 }

var names = map[string]string{"#s": attrStatus, "#o": attrOwner, "#l": attrLeaseUntil, "#e": attrExpMS}

func isConditionFailed(err error) (*types.ConditionalCheckFailedException, bool) {
	var cf *types.ConditionalCheckFailedException
	return cf, errors.As(err, &cf)
}

// Claim implements ledger.Ledger with one conditional PutItem: the key is
// absent, or its record expired, or its lease lapsed, or the caller already
// holds the lease (a retried claim renews it).
func (l *Ledger) Claim(ctx context.Context, key, owner string, leaseFor time.Duration) (ledger.Outcome, error) {
	op := fmt.Sprintf("dynamodb Claim %s/%s", l.opts.Table, key)
	ctx, cancel := context.WithTimeout(ctx, l.opts.Timeout)
	defer cancel()
	now := l.opts.Now().UnixMilli()
	until := now + leaseFor.Milliseconds()
	_, err := l.c.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(l.opts.Table),
		Item: map[string]types.AttributeValue{
			attrPK: s(key), attrStatus: s(statusLeased), attrOwner: s(owner),
			attrLeaseUntil: n(until), attrExpMS: n(until), TTLAttribute: n(ttlSeconds(until)),
		},
		ConditionExpression:      aws.String("attribute_not_exists(pk) OR #e < :now OR (#s = :leased AND #l < :now) OR (#s = :leased AND #o = :owner)"),
		ExpressionAttributeNames: names,
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":now": n(now), ":leased": s(statusLeased), ":owner": s(owner),
		},
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	if err == nil {
		return ledger.Claimed, nil
	}
	cf, ok := isConditionFailed(err)
	if !ok {
		return 0, awsconf.Classify(op, err, nil)
	}
	item := cf.Item
	if item == nil {
		// Servers without ReturnValuesOnConditionCheckFailure: read it.
		got, gerr := l.c.GetItem(ctx, &dynamodb.GetItemInput{
			TableName: aws.String(l.opts.Table), Key: map[string]types.AttributeValue{attrPK: s(key)}, ConsistentRead: aws.Bool(true),
		})
		if gerr != nil {
			return 0, awsconf.Classify(op+" (read after a failed claim)", gerr, nil)
		}
		item = got.Item
		if item == nil {
			// Released or expired between the two calls: let the caller retry.
			return ledger.Held, nil
		}
	}
	if str(item[attrStatus]) == statusDone {
		return ledger.Done, nil
	}
	return ledger.Held, nil
}

func str(v types.AttributeValue) string {
	if sv, ok := v.(*types.AttributeValueMemberS); ok {
		return sv.Value
	}
	return ""
}

// Complete implements ledger.Ledger: an UpdateItem conditional on the caller
// owning a live lease, or on the caller's own done record (an idempotent
// retry).
func (l *Ledger) Complete(ctx context.Context, key, owner string, ttl time.Duration) error {
	op := fmt.Sprintf("dynamodb Complete %s/%s", l.opts.Table, key)
	ctx, cancel := context.WithTimeout(ctx, l.opts.Timeout)
	defer cancel()
	now := l.opts.Now().UnixMilli()
	exp := now + ttl.Milliseconds()
	_, err := l.c.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:        aws.String(l.opts.Table),
		Key:              map[string]types.AttributeValue{attrPK: s(key)},
		UpdateExpression: aws.String("SET #s = :done, #e = :exp, expires_at = :ttl REMOVE #l"),
		ConditionExpression: aws.String("attribute_exists(pk) AND #o = :owner AND " +
			"((#s = :leased AND #l >= :now) OR #s = :done)"),
		ExpressionAttributeNames: names,
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":done": s(statusDone), ":leased": s(statusLeased), ":owner": s(owner),
			":now": n(now), ":exp": n(exp), ":ttl": n(ttlSeconds(exp)),
		},
	})
	if _, ok := isConditionFailed(err); ok {
		return fault.New(fault.PreconditionFailed, op, fmt.Errorf("%s does not hold a live lease: %w", owner, err))
	}
	return awsconf.Classify(op, err, nil)
}

// Release implements ledger.Ledger: a DeleteItem conditional on the caller
// owning the lease; releasing a key with no record succeeds.
func (l *Ledger) Release(ctx context.Context, key, owner string) error {
	op := fmt.Sprintf("dynamodb Release %s/%s", l.opts.Table, key)
	ctx, cancel := context.WithTimeout(ctx, l.opts.Timeout)
	defer cancel()
	_, err := l.c.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName:                aws.String(l.opts.Table),
		Key:                      map[string]types.AttributeValue{attrPK: s(key)},
		ConditionExpression:      aws.String("attribute_not_exists(pk) OR (#o = :owner AND #s = :leased)"),
		ExpressionAttributeNames: map[string]string{"#s": attrStatus, "#o": attrOwner},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":owner": s(owner), ":leased": s(statusLeased),
		},
	})
	if _, ok := isConditionFailed(err); ok {
		return fault.New(fault.PreconditionFailed, op, fmt.Errorf("%s does not hold the lease: %w", owner, err))
	}
	return awsconf.Classify(op, err, nil)
}
