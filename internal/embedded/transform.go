package embedded

import (
	"context"
	"os"
	"path/filepath"

	"github.com/serverless-elt/elt/internal/bus"
	"github.com/serverless-elt/elt/internal/objstore"
	"github.com/serverless-elt/elt/internal/queue"
	"github.com/serverless-elt/elt/internal/records"
	"github.com/serverless-elt/elt/internal/silver"
	"github.com/serverless-elt/elt/tasks/transform"
)

// newTransform wires the transform task to the stack: silver and quarantine
// go to the silver bucket under the configured prefixes, files are built in
// <data-dir>/tmp (same disk as the store).
func newTransform(cfg Config, store objstore.Store, b bus.Bus) (TransformFunc, error) {
	tmp := filepath.Join(cfg.DataDir, "tmp")
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		return nil, err
	}
	h := transform.New(store, b, records.Default(), cfg.Now, cfg.Log, transform.Config{
		Bucket:      cfg.SilverBucket,
		Layout:      silver.Layout{SilverPrefix: cfg.SilverPrefix, QuarantinePrefix: cfg.QuarantinePrefix},
		TempDir:     tmp,
		Concurrency: cfg.TransformConcurrency,
	})
	return TransformHandler(h), nil
}

// TransformHandler adapts the transform task to the poller.
func TransformHandler(h *transform.Handler) TransformFunc {
	return func(ctx context.Context, msgs []queue.Message) (BatchResult, error) {
		out, err := h.Handle(ctx, transform.FromQueue(msgs))
		if err != nil {
			return BatchResult{}, err
		}
		res := BatchResult{
			Records:     int(out.Records),
			SilverRows:  int(out.Rows),
			Duplicates:  int(out.Duplicates),
			Quarantined: int(out.Quarantined),
			Files:       out.Files,
		}
		for _, f := range out.BatchItemFailures {
			res.Failed = append(res.Failed, f.ItemIdentifier)
		}
		return res, nil
	}
}
