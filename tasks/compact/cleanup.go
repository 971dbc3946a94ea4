package compact

import (
	"context"
	"fmt"
	"strings"

	"github.com/serverless-elt/elt/internal/fault"
	"github.com/serverless-elt/elt/tasks/crawl"
)

// CleanupInput names the manifest whose superseded inputs to remove.
type CleanupInput struct {
	Bucket      string `json:"bucket"`
	ManifestKey string `json:"manifest_key"`
}

// Cleanup statuses.
const (
	CleanupDone    = "cleaned"
	CleanupRefused = "refused"
)

// CleanupOutput says what was removed and what was spared. A refusal is
// an outcome, not an error: nothing was deleted and Reason says why.
type CleanupOutput struct {
	Status      string   `json:"status"`
	Reason      string   `json:"reason,omitempty"`
	ManifestKey string   `json:"manifest_key"`
	Deleted     int      `json:"deleted"`
	AlreadyGone int      `json:"already_gone"`
	Spared      []string `json:"spared"` // inputs changed since the compaction (other ETag): kept
}

// Cleanup is compact_cleanup: the explicit, later step that removes a
// compaction's superseded input files.
type Cleanup struct {
	deps Deps
	cfg  Config
}

// NewCleanup returns the cleanup task.
func NewCleanup(deps Deps, cfg Config) (*Cleanup, error) {
	if err := deps.defaults(); err != nil {
		return nil, err
	}
	cfg.defaults()
	return &Cleanup{deps: deps, cfg: cfg}, nil
}

// Handle removes the manifest's inputs, but only if the catalog partition
// points at the manifest's outputs (else the inputs may still be what
// readers use), and of those only the ones that still have the ETag the
// manifest recorded: a file rewritten after the compaction holds data the
// outputs do not have, so it stays (the next compaction picks it up).
//
// The ETag check and the delete are two calls (objstore has no conditional
// delete), so a rewrite in between is lost; silver rewrites of a key carry
// the same rows (keys are a function of the source's ETag), which makes
// that window harmless for silver files.
func (c *Cleanup) Handle(ctx context.Context, in CleanupInput) (CleanupOutput, error) {
	out := CleanupOutput{ManifestKey: in.ManifestKey, Spared: []string{}}
	if in.Bucket == "" || in.ManifestKey == "" || !strings.HasSuffix(in.ManifestKey, "/"+ManifestName) {
		return out, errorf(ErrInvalidInput, "bucket and manifest_key (.../%s) are required", ManifestName)
	}
	m, err := ReadManifest(ctx, c.deps.Store, in.Bucket, in.ManifestKey)
	if err != nil {
		return out, err
	}
	if m == nil {
		return out, errorf(ErrInvalidInput, "no manifest at s3://%s/%s", in.Bucket, in.ManifestKey)
	}
	outPrefix := strings.TrimSuffix(in.ManifestKey, ManifestName)
	if m.Location != crawl.Location(in.Bucket, outPrefix) {
		return out, errorf(ErrCorruptInput, "manifest s3://%s/%s describes outputs at %s", in.Bucket, in.ManifestKey, m.Location)
	}
	p, err := c.deps.Catalog.GetPartition(ctx, c.cfg.Database, m.RecordType, []string{m.Dt})
	if err != nil && !fault.Is(err, fault.NotFound) {
		return out, backendError(fmt.Sprintf("get partition %s.%s dt=%s", c.cfg.Database, m.RecordType, m.Dt), err)
	}
	if p.Location != m.Location {
		out.Status = CleanupRefused
		out.Reason = fmt.Sprintf("catalog partition %s.%s dt=%s is at %q, not at this manifest's outputs %s",
			c.cfg.Database, m.RecordType, m.Dt, p.Location, m.Location)
		c.deps.Logger.WarnContext(ctx, "compact_cleanup.refused", "manifest", in.ManifestKey, "reason", out.Reason)
		return out, nil
	}
	for _, f := range m.Inputs {
		if strings.HasPrefix(f.Key, outPrefix) {
			continue // never an output of this manifest
		}
		info, err := c.deps.Store.Head(ctx, in.Bucket, f.Key)
		switch {
		case fault.Is(err, fault.NotFound):
			out.AlreadyGone++
			continue
		case err != nil:
			return out, backendError(fmt.Sprintf("head s3://%s/%s", in.Bucket, f.Key), err)
		case info.ETag != f.ETag:
			out.Spared = append(out.Spared, f.Key)
			continue
		}
		if err := c.deps.Store.Delete(ctx, in.Bucket, f.Key); err != nil {
			return out, backendError(fmt.Sprintf("delete s3://%s/%s", in.Bucket, f.Key), err)
		}
		out.Deleted++
	}
	out.Status = CleanupDone
	c.deps.Logger.InfoContext(ctx, "compact_cleanup.done", "manifest", in.ManifestKey,
		"deleted", out.Deleted, "already_gone", out.AlreadyGone, "spared", len(out.Spared))
	return out, nil
}
