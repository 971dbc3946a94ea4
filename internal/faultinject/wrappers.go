package faultinject

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/serverless-elt/elt/internal/fault"
	"github.com/serverless-elt/elt/internal/ledger"
	"github.com/serverless-elt/elt/internal/objstore"
	"github.com/serverless-elt/elt/internal/queue"
)

// Store wraps an object store.
func Store(inner objstore.Store, in *Injector) objstore.Store {
	return &store{inner: inner, in: in}
}

type store struct {
	inner objstore.Store
	in    *Injector
}

func (s *store) Get(ctx context.Context, bucket, key string, opts *objstore.GetOptions) (io.ReadCloser, objstore.ObjectInfo, error) {
	d := s.in.decide(OpGet)
	if err := s.in.before(d); err != nil {
		return nil, objstore.ObjectInfo{}, err
	}
	rc, info, err := s.inner.Get(ctx, bucket, key, opts)
	if err != nil {
		return nil, info, s.in.onError(d, err)
	}
	if err := s.in.after(d); err != nil {
		rc.Close()
		return nil, objstore.ObjectInfo{}, err
	}
	if d.kind == ShortRead && !d.dead {
		n := info.Size
		if opts != nil && opts.Range != nil {
			n = info.Size - opts.Range.Offset
			if opts.Range.Length >= 0 && opts.Range.Length < n {
				n = opts.Range.Length
			}
		}
		return &shortReader{rc: rc, left: n / 2, op: d.op, call: d.call}, info, nil
	}
	return rc, info, nil
}

// shortReader yields left bytes, then a transient error (a connection reset
// half way through a GET).
type shortReader struct {
	rc   io.ReadCloser
	left int64
	op   string
	call int
}

func (r *shortReader) Read(p []byte) (int, error) {
	if r.left <= 0 {
		return 0, fault.New(fault.Transient, r.op, fmt.Errorf("faultinject: body cut short on call %d", r.call))
	}
	if int64(len(p)) > r.left {
		p = p[:r.left]
	}
	n, err := r.rc.Read(p)
	r.left -= int64(n)
	return n, err
}

func (r *shortReader) Close() error { return r.rc.Close() }

func (s *store) Head(ctx context.Context, bucket, key string) (objstore.ObjectInfo, error) {
	d := s.in.decide(OpHead)
	if err := s.in.before(d); err != nil {
		return objstore.ObjectInfo{}, err
	}
	info, err := s.inner.Head(ctx, bucket, key)
	if err != nil {
		return info, s.in.onError(d, err)
	}
	if err := s.in.after(d); err != nil {
		return objstore.ObjectInfo{}, err
	}
	return info, nil
}

func (s *store) Put(ctx context.Context, bucket, key string, body io.Reader, opts *objstore.PutOptions) (objstore.ObjectInfo, error) {
	d := s.in.decide(OpPut)
	if err := s.in.before(d); err != nil {
		return objstore.ObjectInfo{}, err
	}
	info, err := s.inner.Put(ctx, bucket, key, body, opts)
	if err != nil {
		return info, s.in.onError(d, err)
	}
	if err := s.in.after(d); err != nil {
		return objstore.ObjectInfo{}, err
	}
	return info, nil
}

func (s *store) Copy(ctx context.Context, srcBucket, srcKey, dstBucket, dstKey string, opts *objstore.CopyOptions) (objstore.ObjectInfo, error) {
	d := s.in.decide(OpCopy)
	if err := s.in.before(d); err != nil {
		return objstore.ObjectInfo{}, err
	}
	info, err := s.inner.Copy(ctx, srcBucket, srcKey, dstBucket, dstKey, opts)
	if err != nil {
		return info, s.in.onError(d, err)
	}
	if err := s.in.after(d); err != nil {
		return objstore.ObjectInfo{}, err
	}
	return info, nil
}

func (s *store) Delete(ctx context.Context, bucket, key string) error {
	d := s.in.decide(OpDelete)
	if err := s.in.before(d); err != nil {
		return err
	}
	if err := s.inner.Delete(ctx, bucket, key); err != nil {
		return s.in.onError(d, err)
	}
	return s.in.after(d)
}

func (s *store) List(ctx context.Context, bucket string, opts objstore.ListOptions) (objstore.ListPage, error) {
	d := s.in.decide(OpList)
	if err := s.in.before(d); err != nil {
		return objstore.ListPage{}, err
	}
	page, err := s.inner.List(ctx, bucket, opts)
	if err != nil {
		return page, s.in.onError(d, err)
	}
	if err := s.in.after(d); err != nil {
		return objstore.ListPage{}, err
	}
	return page, nil
}

// Queue wraps a queue. If inner has a dead-letter queue the result does too
// (the DLQ itself is wrapped; Redrive is an injectable operation).
func Queue(inner queue.Queue, in *Injector) queue.Queue {
	q := &queueW{inner: inner, in: in}
	if dl, ok := inner.(queue.DeadLettered); ok {
		return &deadLetteredQueue{queueW: q, dl: dl}
	}
	return q
}

type queueW struct {
	inner queue.Queue
	in    *Injector
}

func (q *queueW) SendBatch(ctx context.Context, entries []queue.SendEntry) ([]queue.SendFailure, error) {
	d := q.in.decide(OpSendBatch)
	if err := q.in.before(d); err != nil {
		return nil, err
	}
	var injected []queue.SendFailure
	if d.kind == PartialBatch && !d.dead && len(entries) > 0 {
		// Fail a random non-empty subset; send the rest.
		fail := make([]bool, len(entries))
		fail[q.in.intn(len(entries))] = true
		for i := range entries {
			if q.in.intn(2) == 0 {
				fail[i] = true
			}
		}
		var rest []queue.SendEntry
		for i, e := range entries {
			if fail[i] {
				injected = append(injected, queue.SendFailure{ID: e.ID, Code: "InternalError", Message: fmt.Sprintf("faultinject: entry failed on call %d", d.call)})
			} else {
				rest = append(rest, e)
			}
		}
		if len(rest) == 0 {
			return injected, nil
		}
		entries = rest
	}
	failed, err := q.inner.SendBatch(ctx, entries)
	if err != nil {
		return nil, q.in.onError(d, err)
	}
	if err := q.in.after(d); err != nil {
		return nil, err
	}
	return append(failed, injected...), nil
}

func (q *queueW) Receive(ctx context.Context, max int, visibility, wait time.Duration) ([]queue.Message, error) {
	d := q.in.decide(OpReceive)
	if err := q.in.before(d); err != nil {
		return nil, err
	}
	msgs, err := q.inner.Receive(ctx, max, visibility, wait)
	if err != nil {
		return nil, q.in.onError(d, err)
	}
	if err := q.in.after(d); err != nil {
		return nil, err // the messages were received (now hidden) but are lost to the caller
	}
	return msgs, nil
}

func (q *queueW) Delete(ctx context.Context, receiptHandle string) error {
	d := q.in.decide(OpDeleteMessage)
	if err := q.in.before(d); err != nil {
		return err
	}
	if err := q.inner.Delete(ctx, receiptHandle); err != nil {
		return q.in.onError(d, err)
	}
	return q.in.after(d)
}

func (q *queueW) ChangeVisibility(ctx context.Context, receiptHandle string, visibility time.Duration) error {
	d := q.in.decide(OpChangeVisibility)
	if err := q.in.before(d); err != nil {
		return err
	}
	if err := q.inner.ChangeVisibility(ctx, receiptHandle, visibility); err != nil {
		return q.in.onError(d, err)
	}
	return q.in.after(d)
}

func (q *queueW) Depth(ctx context.Context) (queue.Depth, error) {
	d := q.in.decide(OpDepth)
	if err := q.in.before(d); err != nil {
		return queue.Depth{}, err
	}
	depth, err := q.inner.Depth(ctx)
	if err != nil {
		return depth, q.in.onError(d, err)
	}
	if err := q.in.after(d); err != nil {
		return queue.Depth{}, err
	}
	return depth, nil
}

type deadLetteredQueue struct {
	*queueW
	dl queue.DeadLettered
}

var _ queue.DeadLettered = (*deadLetteredQueue)(nil)

func (q *deadLetteredQueue) DeadLetters() queue.Queue {
	return &queueW{inner: q.dl.DeadLetters(), in: q.in}
}

func (q *deadLetteredQueue) Redrive(ctx context.Context, max int) (int, error) {
	d := q.in.decide(OpRedrive)
	if err := q.in.before(d); err != nil {
		return 0, err
	}
	n, err := q.dl.Redrive(ctx, max)
	if err != nil {
		return n, q.in.onError(d, err)
	}
	if err := q.in.after(d); err != nil {
		return 0, err
	}
	return n, nil
}

// Ledger wraps a ledger.
func Ledger(inner ledger.Ledger, in *Injector) ledger.Ledger {
	return &ledgerW{inner: inner, in: in}
}

type ledgerW struct {
	inner ledger.Ledger
	in    *Injector
}

func (l *ledgerW) Claim(ctx context.Context, key, owner string, leaseFor time.Duration) (ledger.Outcome, error) {
	d := l.in.decide(OpClaim)
	if err := l.in.before(d); err != nil {
		return 0, err
	}
	out, err := l.inner.Claim(ctx, key, owner, leaseFor)
	if err != nil {
		return out, l.in.onError(d, err)
	}
	if err := l.in.after(d); err != nil {
		return 0, err
	}
	return out, nil
}

func (l *ledgerW) Complete(ctx context.Context, key, owner string, ttl time.Duration) error {
	d := l.in.decide(OpComplete)
	if err := l.in.before(d); err != nil {
		return err
	}
	if err := l.inner.Complete(ctx, key, owner, ttl); err != nil {
		return l.in.onError(d, err)
	}
	return l.in.after(d)
}

func (l *ledgerW) Release(ctx context.Context, key, owner string) error {
	d := l.in.decide(OpRelease)
	if err := l.in.before(d); err != nil {
		return err
	}
	if err := l.inner.Release(ctx, key, owner); err != nil {
		return l.in.onError(d, err)
	}
	return l.in.after(d)
}
