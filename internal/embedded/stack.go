// Package embedded runs the whole pipeline on one machine from a data
// directory: the object store, queue, ledger and bus are the embedded
// backends, a notifier plays S3 event notifications, a poller plays Lambda's
// SQS event source mapping, and the bus is drained to rules. The handlers are
// the same ones that run on AWS.
//
// Data directory layout:
//
//	<data-dir>/store/<bucket>/<key>   objects (bronze, silver, quarantine)
//	<data-dir>/queue.db               work queue and its dead-letter queue
//	<data-dir>/ledger.db              ingest claims
//	<data-dir>/bus/                   events (partition ready)
//	<data-dir>/notified.db            which bronze versions were notified
//
// Buckets follow the original project: a bronze bucket whose notifications
// fire for the "bronze/" prefix, and a silver bucket holding "silver/" (typed
// Parquet) and "quarantine/" (bad records).
package embedded

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/serverless-elt/elt/internal/bus"
	"github.com/serverless-elt/elt/internal/bus/localbus"
	"github.com/serverless-elt/elt/internal/ledger"
	"github.com/serverless-elt/elt/internal/objstore"
	"github.com/serverless-elt/elt/internal/queue"
	"github.com/serverless-elt/elt/internal/work"
	"github.com/serverless-elt/elt/tasks/ingest"
)

// Config is the stack's configuration. Zero values take the defaults.
type Config struct {
	// DataDir holds everything (default ".elt-data").
	DataDir string

	BronzeBucket     string // default "bronze"
	BronzePrefix     string // default "bronze/"
	SilverBucket     string // default "silver"
	SilverPrefix     string // default "silver/"
	QuarantinePrefix string // default "quarantine/" (in the silver bucket)
	// ReplayCopyPrefixes hold replay copies (default <BronzePrefix>replay/,
	// as on AWS): the only bronze keys whose elt-content-etag metadata
	// ingest and replay believe. Replays' dest_prefix_base belongs under one.
	ReplayCopyPrefixes []string

	// ChunkBytes bounds one JSONL work item (default 64 MiB).
	ChunkBytes int64
	// IngestLease is how long an ingest claim holds an object (default 1m:
	// locally an ingest takes milliseconds, and a claim left by a killed
	// process should not block its object for Lambda's 15 minutes).
	IngestLease time.Duration
	// Owner names this stack in the ledger (default "embedded"). Only one
	// process opens a data dir at a time (bbolt locks), so a restarted stack
	// may renew its predecessor's claims at once under the same name.
	Owner string
	// VisibilityTimeout hides a received message (default 30s; on AWS it is
	// six times the transform timeout).
	VisibilityTimeout time.Duration
	// RetryAfter is how soon a message transform reported failed is
	// redelivered (default 1s); negative keeps the full visibility timeout.
	RetryAfter time.Duration
	// MaxReceiveCount sends a message to the dead-letter queue after this
	// many receives (default 3).
	MaxReceiveCount int
	// TransformConcurrency is how many messages of a batch transform at
	// once (0: the transform's default, GOMAXPROCS; chaos tests use 1 so a
	// seed replays).
	TransformConcurrency int
	// Settle is how long a bronze object must be unmodified before it is
	// notified (default 1s; negative for none), so a file still being
	// copied into the bronze folder by hand is not ingested half written.
	Settle time.Duration
	// ScanInterval is how often `elt up` scans bronze (default 1s).
	ScanInterval time.Duration
	// PollWait is the long-poll wait of `elt up` (default 1s).
	PollWait time.Duration
	// MaxIdleRounds bounds how many rounds RunUntilIdle waits without
	// progress for in-flight messages or failing ingests (default 120).
	MaxIdleRounds int

	// LockTimeout bounds the wait for another process's lock on the data
	// dir's files (default 5s).
	LockTimeout time.Duration

	// Now and Sleep are the clock (tests inject a virtual one).
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error
	Log   *slog.Logger
}

// WithDefaults fills the zero fields.
func (c Config) WithDefaults() Config {
	def := func(s *string, v string) {
		if *s == "" {
			*s = v
		}
	}
	def(&c.DataDir, ".elt-data")
	def(&c.BronzeBucket, "bronze")
	def(&c.BronzePrefix, "bronze/")
	def(&c.SilverBucket, "silver")
	def(&c.SilverPrefix, "silver/")
	def(&c.QuarantinePrefix, "quarantine/")
	def(&c.Owner, "embedded")
	if c.ReplayCopyPrefixes == nil {
		c.ReplayCopyPrefixes = work.DefaultCopyPrefixes(c.BronzePrefix)
	}
	if c.ChunkBytes <= 0 {
		c.ChunkBytes = ingest.DefaultChunkBytes
	}
	if c.IngestLease <= 0 {
		c.IngestLease = time.Minute
	}
	if c.VisibilityTimeout <= 0 {
		c.VisibilityTimeout = 30 * time.Second
	}
	// Negative values mean "none" and are kept, so WithDefaults can be
	// applied twice.
	if c.RetryAfter == 0 {
		c.RetryAfter = time.Second
	}
	if c.MaxReceiveCount <= 0 {
		c.MaxReceiveCount = 3
	}
	if c.Settle == 0 {
		c.Settle = time.Second
	}
	if c.ScanInterval <= 0 {
		c.ScanInterval = time.Second
	}
	if c.PollWait <= 0 {
		c.PollWait = time.Second
	}
	if c.LockTimeout <= 0 {
		c.LockTimeout = 5 * time.Second
	}
	if c.MaxIdleRounds <= 0 {
		c.MaxIdleRounds = 120
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Sleep == nil {
		c.Sleep = sleepCtx
	}
	if c.Log == nil {
		c.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return c
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Backends are the stores the stack runs on.
type Backends struct {
	Store  objstore.Store
	Queue  queue.Queue // should also be queue.DeadLettered
	Ledger ledger.Ledger
	Bus    bus.Bus // may be nil
	// Closers are closed, in order, by Stack.Close.
	Closers []io.Closer
}

// Rule routes events from the bus to a target, like an EventBridge rule.
// The partition-ready -> quality gate rule plugs in here.
type Rule struct {
	Name       string
	DetailType string // matched exactly; empty matches every event
	Target     func(ctx context.Context, ev bus.Event) error
}

// Stack is the running pipeline.
type Stack struct {
	cfg      Config
	b        Backends
	ingest   *ingest.Handler
	notifier *Notifier
	poller   *Poller
	events   *ruleBus
}

// Handlers builds the task handlers for a stack; transform gets the bus the
// stack routes to its rules.
type Handlers struct {
	Plan      ingest.Planner
	Transform func(b bus.Bus) (TransformFunc, error)
}

// New assembles a stack on the given backends.
func New(cfg Config, b Backends, h Handlers, rules ...Rule) (*Stack, error) {
	cfg = cfg.WithDefaults()
	if b.Store == nil || b.Queue == nil || b.Ledger == nil {
		return nil, errors.New("embedded: store, queue and ledger are required")
	}
	events, err := newRuleBus(b.Bus, rules, cfg.Log)
	if err != nil {
		return nil, err
	}
	s := &Stack{cfg: cfg, b: b, events: events}
	ih, err := ingest.New(ingest.Config{ChunkBytes: cfg.ChunkBytes, Lease: cfg.IngestLease, Owner: cfg.Owner, CopyPrefixes: cfg.ReplayCopyPrefixes}, ingest.Deps{
		Store: b.Store, Queue: b.Queue, Ledger: b.Ledger, Plan: h.Plan,
		Now: cfg.Now, Sleep: cfg.Sleep, Log: cfg.Log,
	})
	if err != nil {
		return nil, err
	}
	s.ingest = ih
	tf, err := h.Transform(s.events)
	if err != nil {
		return nil, fmt.Errorf("build transform: %w", err)
	}
	s.poller = &Poller{q: b.Queue, transform: tf, batch: 10, visibility: cfg.VisibilityTimeout, retryAfter: cfg.RetryAfter, log: cfg.Log}
	n, err := OpenNotifier(cfg.DataDir, b.Store, cfg.BronzeBucket, cfg.BronzePrefix, ih.Handle, cfg.Now, cfg.Log)
	if err != nil {
		return nil, err
	}
	n.settle = cfg.Settle
	s.notifier = n
	s.b.Closers = append([]io.Closer{n}, s.b.Closers...)
	return s, nil
}

// Close releases the backends.
func (s *Stack) Close() error {
	var errs []error
	for _, c := range s.b.Closers {
		if err := c.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Config is the effective configuration.
func (s *Stack) Config() Config { return s.cfg }

// Store is the stack's object store (for uploads and inventory).
func (s *Stack) Store() objstore.Store { return s.b.Store }

// Queue is the stack's work queue.
func (s *Stack) Queue() queue.Queue { return s.b.Queue }

// Progress counts what a run did.
type Progress struct {
	Events   int           `json:"events"`        // notifications ingest accepted
	Ingest   ingest.Output `json:"ingest"`        // what ingest did with them
	Failed   int           `json:"ingest_failed"` // notifications ingest failed (retried)
	Polls    PollResult    `json:"-"`
	Messages int           `json:"messages_processed"`
	Rules    int           `json:"rule_invocations"`
}

func (p *Progress) addScan(r ScanResult) {
	p.Events += r.Delivered
	p.Failed += r.Failed
	p.Ingest.Add(r.Ingest)
}

func (p *Progress) addPoll(r PollResult) {
	p.Polls.add(r)
	p.Messages += r.Deleted
}

// ErrNotIdle is returned by RunUntilIdle when work is still pending after
// MaxIdleRounds rounds without progress.
var ErrNotIdle = errors.New("pipeline did not become idle")

// RunUntilIdle processes everything pending (bronze objects not yet
// notified, queued messages, bus events) and returns when bronze has nothing
// new, the queue is empty (messages that kept failing are in the DLQ) and
// no ingest is failing.
func (s *Stack) RunUntilIdle(ctx context.Context) (Progress, error) {
	var p Progress
	idle := 0
	for {
		sr, err := s.notifier.Scan(ctx)
		p.addScan(sr)
		if err != nil {
			return p, err
		}
		pr, err := s.poller.Drain(ctx)
		p.addPoll(pr)
		if err != nil {
			return p, err
		}
		p.Rules += s.events.drain(ctx)
		d, err := s.b.Queue.Depth(ctx)
		if err != nil {
			return p, fmt.Errorf("queue depth: %w", err)
		}
		busy := d.Visible+d.InFlight+d.Delayed > 0 || sr.Failed > 0 || sr.Settling > 0
		if !busy && sr.Delivered == 0 && pr.Received == 0 {
			return p, nil
		}
		if sr.Delivered > 0 || pr.Deleted > 0 {
			idle = 0
			continue
		}
		// Waiting for failed messages to become visible again, for a
		// failing ingest to succeed or for new objects to settle.
		idle++
		if idle > s.cfg.MaxIdleRounds {
			return p, fmt.Errorf("%w after %d rounds: queue %+v, %d failing ingests, %d objects settling", ErrNotIdle, idle-1, d, sr.Failed, sr.Settling)
		}
		if pr.Received == 0 {
			wait := s.cfg.RetryAfter
			if wait <= 0 {
				wait = time.Second
			}
			if err := s.cfg.Sleep(ctx, wait); err != nil {
				return p, err
			}
		}
	}
}

// Run runs the stack until ctx ends: it scans bronze every ScanInterval and
// long-polls the queue in between. It returns nil when ctx is cancelled.
func (s *Stack) Run(ctx context.Context, onProgress func(Progress)) error {
	var p Progress
	next := s.cfg.Now()
	for ctx.Err() == nil {
		if !s.cfg.Now().Before(next) {
			sr, err := s.notifier.Scan(ctx)
			p.addScan(sr)
			if err != nil && ctx.Err() == nil {
				s.cfg.Log.Warn("stack.scan_failed", "err", err)
			}
			next = s.cfg.Now().Add(s.cfg.ScanInterval)
		}
		pr, err := s.poller.PollOnce(ctx, s.cfg.PollWait)
		p.addPoll(pr)
		if err != nil && ctx.Err() == nil {
			s.cfg.Log.Warn("stack.poll_failed", "err", err)
			if err := s.cfg.Sleep(ctx, s.cfg.PollWait); err != nil {
				break
			}
		}
		p.Rules += s.events.drain(ctx)
		if onProgress != nil && (pr.Received > 0 || p.Events > 0) {
			onProgress(p)
		}
		if pr.Received == 0 && err == nil {
			// An empty long poll already waited; a queue that returns at
			// once (wait unsupported) must not spin.
			if err := s.cfg.Sleep(ctx, 0); err != nil {
				break
			}
		}
	}
	return nil
}

// ruleBus is the bus the transform publishes to. Events go to the backend
// bus; rules then get them. On the local bus each rule is a durable named
// subscription (at-least-once: its cursor moves past an event only after the
// target succeeded, across restarts); on any other bus (or none) the events
// of this process are kept in memory until routed.
type ruleBus struct {
	next    bus.Bus
	rules   []Rule
	subs    []*localbus.Subscription
	pending []bus.Event
	log     *slog.Logger
}

func newRuleBus(next bus.Bus, rules []Rule, log *slog.Logger) (*ruleBus, error) {
	b := &ruleBus{next: next, rules: rules, log: log}
	if lb, ok := next.(*localbus.Bus); ok {
		for _, r := range rules {
			sub, err := lb.Subscribe("rule-" + r.Name)
			if err != nil {
				return nil, fmt.Errorf("subscribe rule %s: %w", r.Name, err)
			}
			b.subs = append(b.subs, sub)
		}
	}
	return b, nil
}

func (b *ruleBus) Put(ctx context.Context, evs []bus.Event) error {
	if b.next != nil {
		// PutEvents takes at most 10 entries.
		for i := 0; i < len(evs); i += 10 {
			if err := b.next.Put(ctx, evs[i:min(i+10, len(evs))]); err != nil {
				return err
			}
		}
	}
	if len(b.rules) > 0 && b.subs == nil {
		b.pending = append(b.pending, evs...)
	}
	return nil
}

func (r Rule) matches(ev bus.Event) bool {
	return r.DetailType == "" || r.DetailType == ev.DetailType
}

// drain delivers waiting events to matching rules and returns how many
// target invocations succeeded. A failing target is logged; on the local
// bus its event is delivered again on the next drain.
func (b *ruleBus) drain(ctx context.Context) int {
	n := 0
	if b.subs != nil {
		for i, sub := range b.subs {
			r := b.rules[i]
			_, err := sub.Drain(ctx, func(ctx context.Context, e localbus.Entry) error {
				if !r.matches(e.Event) {
					return nil
				}
				if err := r.Target(ctx, e.Event); err != nil {
					return err
				}
				n++
				return nil
			})
			if err != nil && ctx.Err() == nil {
				b.log.Warn("rule.target_failed", "rule", r.Name, "err", err)
			}
		}
		return n
	}
	evs := b.pending
	b.pending = nil
	for _, ev := range evs {
		for _, r := range b.rules {
			if !r.matches(ev) {
				continue
			}
			if err := r.Target(ctx, ev); err != nil {
				b.log.Warn("rule.target_failed", "rule", r.Name, "detail_type", ev.DetailType, "err", err)
				continue
			}
			n++
		}
	}
	return n
}
