package lambdaentry

import (
	"context"
	"encoding/json"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/serverless-elt/elt/internal/bus"
	"github.com/serverless-elt/elt/internal/bus/ebbus"
	"github.com/serverless-elt/elt/internal/chunk"
	"github.com/serverless-elt/elt/internal/ledger/dynamoledger"
	"github.com/serverless-elt/elt/internal/objstore/s3store"
	"github.com/serverless-elt/elt/internal/queue/sqsqueue"
	"github.com/serverless-elt/elt/internal/records"
	"github.com/serverless-elt/elt/tasks/ingest"
	"github.com/serverless-elt/elt/tasks/transform"
)

// Environment variables of the hot-path functions.
const (
	EnvQueueURL        = "ELT_QUEUE_URL"
	EnvLedgerTable     = "ELT_LEDGER_TABLE"
	EnvChunkBytes      = "ELT_CHUNK_BYTES"
	EnvEventBus        = "ELT_EVENT_BUS"
	EnvPartitionEvents = "ELT_EMIT_PARTITION_EVENTS"
)

// Ingest serves S3 ObjectCreated notifications (tasks/ingest). It needs
// ELT_QUEUE_URL and ELT_LEDGER_TABLE; ELT_CHUNK_BYTES is optional, and
// ELT_REPLAY_COPY_PREFIXES (default <ELT_BRONZE_PREFIX>replay/) are the
// only keys whose elt-content-etag metadata it believes.
func Ingest(ctx context.Context, rt *Runtime) (Handler, error) {
	queueURL, err := Required(rt.Env, EnvQueueURL)
	if err != nil {
		return nil, err
	}
	table, err := Required(rt.Env, EnvLedgerTable)
	if err != nil {
		return nil, err
	}
	chunkBytes, err := Int64(rt.Env, EnvChunkBytes, ingest.DefaultChunkBytes)
	if err != nil {
		return nil, err
	}
	bronzePrefix, err := prefix(rt.Env, EnvBronzePrefix, DefaultBronzePrefix)
	if err != nil {
		return nil, err
	}
	copies, err := copyPrefixes(rt.Env, bronzePrefix)
	if err != nil {
		return nil, err
	}
	store := s3store.New(s3store.NewClient(rt.AWS), s3store.Options{Now: rt.Now})
	q, err := sqsqueue.New(sqsqueue.NewClient(rt.AWS), sqsqueue.Options{QueueURL: queueURL, Log: rt.Log})
	if err != nil {
		return nil, err
	}
	led, err := dynamoledger.New(dynamoledger.NewClient(rt.AWS), dynamoledger.Options{Table: table, Now: rt.Now})
	if err != nil {
		return nil, err
	}
	deps := ingest.Deps{Store: store, Queue: q, Ledger: led, Plan: chunk.Plan, Now: rt.Now, Log: rt.Log}
	return func(ctx context.Context, event json.RawMessage) (any, error) {
		ev, err := decode[events.S3Event](event, "S3")
		if err != nil {
			return nil, err
		}
		// The claim owner is this invocation: a retried invocation of the
		// same event gets a new request id and waits out (or finds done)
		// the earlier claim, while a retried Claim inside this one renews.
		owner := "ingest"
		if lc, ok := lambdacontext.FromContext(ctx); ok && lc.AwsRequestID != "" {
			owner = "ingest/" + lc.AwsRequestID
		}
		h, err := ingest.New(ingest.Config{ChunkBytes: chunkBytes, Owner: owner, CopyPrefixes: copies}, deps)
		if err != nil {
			return nil, err
		}
		out, err := h.Handle(ctx, ev)
		rt.Log.Info("ingest.done", "objects", out.Objects, "claimed", out.Claimed, "skipped", out.Skipped,
			"superseded", out.Superseded, "ignored", out.Ignored, "messages", out.Messages, "error", errString(err))
		if err != nil {
			return nil, err
		}
		return out, nil
	}, nil
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// discardBus drops events (partition events turned off).
type discardBus struct{}

func (discardBus) Put(context.Context, []bus.Event) error { return nil }

// Transform serves SQS batches (tasks/transform) and answers with a partial
// batch response: batchItemFailures lists only message ids of this batch
// (an empty list on full success), as ReportBatchItemFailures requires. It
// needs ELT_SILVER_BUCKET; with ELT_EMIT_PARTITION_EVENTS=true also
// ELT_EVENT_BUS.
func Transform(ctx context.Context, rt *Runtime) (Handler, error) {
	silverBucket, err := Required(rt.Env, EnvSilverBucket)
	if err != nil {
		return nil, err
	}
	emit, err := Bool(rt.Env, EnvPartitionEvents, false)
	if err != nil {
		return nil, err
	}
	var b bus.Bus = discardBus{}
	if emit {
		name, err := Required(rt.Env, EnvEventBus)
		if err != nil {
			return nil, &ConfigError{Var: EnvEventBus, Reason: "required when " + EnvPartitionEvents + "=true"}
		}
		b = ebbus.New(ebbus.NewClient(rt.AWS), ebbus.Options{BusName: name})
	}
	store := s3store.New(s3store.NewClient(rt.AWS), s3store.Options{Now: rt.Now})
	h := transform.New(store, b, records.Default(), rt.Now, rt.Log, transform.Config{Bucket: silverBucket})
	return func(ctx context.Context, event json.RawMessage) (any, error) {
		in, err := decode[transform.Input](event, "SQS")
		if err != nil {
			return nil, err
		}
		out, err := h.Handle(ctx, in)
		if err != nil {
			rt.Log.Error("transform.batch_failed", "messages", len(in.Records), "err", err.Error())
			return nil, err
		}
		resp := BatchResponse(in, out)
		rt.Log.Info("transform.done", "messages", len(in.Records), "failed", len(resp.BatchItemFailures),
			"obsolete", out.Obsolete, "records", out.Records, "rows", out.Rows, "quarantined", out.Quarantined, "files", out.Files)
		return resp, nil
	}, nil
}

// BatchResponse is the SQS partial batch response for out: only ids of
// messages in the batch, each once, never nil (an empty list is success).
func BatchResponse(in transform.Input, out transform.Output) events.SQSEventResponse {
	valid := make(map[string]bool, len(in.Records))
	for _, r := range in.Records {
		valid[r.MessageID] = true
	}
	resp := events.SQSEventResponse{BatchItemFailures: []events.SQSBatchItemFailure{}}
	for _, f := range out.BatchItemFailures {
		if !valid[f.ItemIdentifier] {
			continue
		}
		valid[f.ItemIdentifier] = false
		resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: f.ItemIdentifier})
	}
	return resp
}
