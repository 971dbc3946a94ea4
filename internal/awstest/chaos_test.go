package awstest_test

// The hot path's chaos run on the AWS adapters: the embedded stack's
// ingest, poller and transform run over s3store (gofakes3), sqsqueue
// (goaws) and dynamoledger (dynalite) wrapped in faultinject, so the
// adapters' retries, error codes and idempotence are exercised together
// while calls fail, responses are lost, batches half-send, reads break and
// the process "crashes" and restarts on the same servers. At the end every
// input record is in silver or quarantine exactly once.
//
// Unlike internal/embedded's chaos test this runs on the servers' real
// clocks (SQS visibility and leases are server/wall time), so it uses short
// timeouts and one seed.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/serverless-elt/elt/internal/awstest"
	"github.com/serverless-elt/elt/internal/bus"
	"github.com/serverless-elt/elt/internal/chunk"
	"github.com/serverless-elt/elt/internal/embedded"
	"github.com/serverless-elt/elt/internal/faultinject"
	"github.com/serverless-elt/elt/internal/ledger/dynamoledger"
	"github.com/serverless-elt/elt/internal/objstore/s3store"
	"github.com/serverless-elt/elt/internal/queue"
	"github.com/serverless-elt/elt/internal/queue/sqsqueue"
	"github.com/serverless-elt/elt/internal/records"
	"github.com/serverless-elt/elt/internal/silver"
	"github.com/serverless-elt/elt/tasks/transform"
)

type discardBus struct{}

func (discardBus) Put(context.Context, []bus.Event) error { return nil }

// chaosInput is a few JSONL objects with unique event ids and some bad lines.
func chaosInput() (objects map[string][]byte, good, bad int) {
	objects = map[string][]byte{}
	id := 0
	for o := range 4 {
		var b bytes.Buffer
		for i := range 60 {
			if i%13 == 5 {
				b.WriteString("{not json\n")
				bad++
				continue
			}
			fmt.Fprintf(&b, `{"record_type":"shipments","event_id":"ev-%05d","event_time":"2026-01-%02dT10:00:00Z","shipment_id":"S%d","origin":"Porto","destination":"Riga","carrier":"UPS","weight_kg":%d}`+"\n", id, o+1, id, i)
			id++
			good++
		}
		objects[fmt.Sprintf("bronze/batch-%d.jsonl", o)] = b.Bytes()
	}
	return objects, good, bad
}

func TestChaosOnAWSAdapters(t *testing.T) {
	if testing.Short() {
		t.Skip("chaos run on real servers takes tens of seconds")
	}
	ctx := t.Context()
	s3srv, err := awstest.StartS3()
	if err != nil {
		t.Fatal(err)
	}
	defer s3srv.Close()
	sqssrv, err := awstest.StartSQS()
	if err != nil {
		t.Fatal(err)
	}
	defer sqssrv.Close()
	ddb, err := awstest.StartDynamoDB(ctx)
	if errors.Is(err, awstest.ErrNoNode) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer ddb.Close()

	for _, b := range []string{"bronze", "silver"} {
		if err := s3srv.CreateBucket(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	if err := ddb.CreateLedgerTable(ctx, "ledger"); err != nil {
		t.Fatal(err)
	}
	cfg, err := awstest.Config(ctx, sqssrv.URL)
	if err != nil {
		t.Fatal(err)
	}
	sc := sqs.NewFromConfig(cfg)
	dlq, err := sc.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("chaos-dlq")})
	if err != nil {
		t.Fatal(err)
	}
	q, err := sc.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("chaos"), Attributes: map[string]string{
		"VisibilityTimeout": "1",
		"RedrivePolicy":     `{"maxReceiveCount":"3","deadLetterTargetArn":"arn:aws:sqs::000000000000:chaos-dlq"}`,
	}})
	if err != nil {
		t.Fatal(err)
	}
	s3c, err := s3srv.Client(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ddbc, err := ddb.Client(ctx)
	if err != nil {
		t.Fatal(err)
	}
	store := s3store.New(s3c, s3store.Options{})
	objects, good, bad := chaosInput()
	for k, body := range objects {
		if _, err := store.Put(ctx, "bronze", k, bytes.NewReader(body), nil); err != nil {
			t.Fatal(err)
		}
	}

	inj := faultinject.New(7,
		faultinject.Rule{Op: faultinject.OpSendBatch, Nth: 2, Kind: faultinject.Crash, When: faultinject.After},
		faultinject.Rule{Op: faultinject.OpPut, Nth: 3, Kind: faultinject.Crash, When: faultinject.After},
		faultinject.Rule{Op: faultinject.OpComplete, Nth: 2, Kind: faultinject.Crash},
		faultinject.Rule{Op: faultinject.OpDeleteMessage, Prob: 0.15},
		faultinject.Rule{Op: faultinject.OpSendBatch, Prob: 0.3, Kind: faultinject.PartialBatch},
		faultinject.Rule{Op: faultinject.OpGet, Prob: 0.05, Kind: faultinject.ShortRead},
		faultinject.Rule{Op: "*", Prob: 0.03, When: faultinject.After},
		faultinject.Rule{Op: "*", Prob: 0.05},
	)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	dataDir := t.TempDir()
	open := func(owner string) *embedded.Stack {
		ec := embedded.Config{
			DataDir: dataDir, ChunkBytes: 1500, Owner: owner, TransformConcurrency: 1,
			IngestLease: 2 * time.Second, VisibilityTimeout: time.Second, RetryAfter: 100 * time.Millisecond,
			Settle: time.Nanosecond, MaxIdleRounds: 300, Log: log,
		}.WithDefaults()
		rq, err := sqsqueue.New(sqsqueue.NewClient(cfg), sqsqueue.Options{QueueURL: aws.ToString(q.QueueUrl), DeadLetterURL: aws.ToString(dlq.QueueUrl), Log: log})
		if err != nil {
			t.Fatal(err)
		}
		led, err := dynamoledger.New(ddbc, dynamoledger.Options{Table: "ledger"})
		if err != nil {
			t.Fatal(err)
		}
		fst := faultinject.Store(store, inj)
		s, err := embedded.New(ec, embedded.Backends{Store: fst, Queue: faultinject.Queue(rq, inj), Ledger: faultinject.Ledger(led, inj)},
			embedded.Handlers{Plan: chunk.Plan, Transform: func(bus.Bus) (embedded.TransformFunc, error) {
				h := transform.New(fst, discardBus{}, records.Default(), nil, log, transform.Config{
					Bucket: "silver", Layout: silver.Layout{}, TempDir: t.TempDir(), Concurrency: 1,
				})
				return embedded.TransformHandler(h), nil
			}})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}

	restarts, failedRuns := 0, 0
	s := open("process-0")
	for attempt := 0; ; attempt++ {
		if attempt > 100 {
			t.Fatalf("no convergence after %d attempts (%d restarts)", attempt, restarts)
		}
		_, err := s.RunUntilIdle(ctx)
		if inj.Crashed() {
			s.Close()
			inj.Restart()
			restarts++
			s = open(fmt.Sprint("process-", restarts))
			continue
		}
		if err == nil {
			break
		}
		failedRuns++
	}
	inj.SetEnabled(false)
	if _, err := s.RunUntilIdle(ctx); err != nil {
		t.Fatal(err)
	}
	redriven, err := s.Queue().(queue.DeadLettered).Redrive(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.RunUntilIdle(ctx); err != nil {
		t.Fatal(err)
	}
	inv, err := s.Inventory(ctx)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	kinds := map[string]int{}
	for _, e := range inj.Events() {
		kinds[e.Kind.String()+" "+e.When.String()]++
	}
	t.Logf("%d faults %v, %d restarts, %d failed runs, %d redriven; inventory %+v", len(inj.Events()), kinds, restarts, failedRuns, redriven, inv)
	if restarts < 2 {
		t.Errorf("only %d crashes: restarts are not exercised", restarts)
	}
	if inv.SilverRows != int64(good) || inv.Quarantined != int64(bad) {
		t.Errorf("silver rows %d (want %d good records), quarantined %d (want %d bad lines): lost or duplicated rows",
			inv.SilverRows, good, inv.Quarantined, bad)
	}
	if inv.Queue.Visible+inv.Queue.InFlight+inv.DLQ.Visible+inv.DLQ.InFlight != 0 {
		t.Errorf("queue %+v dlq %+v not drained", inv.Queue, inv.DLQ)
	}
}
