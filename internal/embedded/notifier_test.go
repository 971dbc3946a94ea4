package embedded

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/serverless-elt/elt/internal/objstore"
	"github.com/serverless-elt/elt/internal/objstore/fsstore"
	"github.com/serverless-elt/elt/tasks/ingest"
)

type recordedIngest struct {
	seen []ingest.Object
	fail map[string]bool
}

func (r *recordedIngest) handle(_ context.Context, ev events.S3Event) (ingest.Output, error) {
	objs, skips := ingest.Objects(ev)
	if len(skips) > 0 || len(ev.Records) != 1 {
		return ingest.Output{}, errors.New("notifier sent a malformed event")
	}
	r.seen = append(r.seen, objs...)
	if r.fail[objs[0].Key] {
		return ingest.Output{Objects: 1}, errors.New("ingest failed")
	}
	return ingest.Output{Objects: 1, Claimed: 1}, nil
}

func (r *recordedIngest) keys() []string {
	var ks []string
	for _, o := range r.seen {
		ks = append(ks, o.Key)
	}
	r.seen = nil
	return ks
}

func put(t *testing.T, st objstore.Store, bucket, key, body string) string {
	t.Helper()
	info, err := st.Put(t.Context(), bucket, key, strings.NewReader(body), nil)
	if err != nil {
		t.Fatal(err)
	}
	return info.ETag
}

func TestNotifierDeliversNewAndChangedObjectsOnce(t *testing.T) {
	dir := t.TempDir()
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { now = now.Add(time.Second); return now }
	st, err := fsstore.New(filepath.Join(dir, "store"), fsstore.Options{Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	rec := &recordedIngest{fail: map[string]bool{}}
	open := func() *Notifier {
		n, err := OpenNotifier(dir, st, "bronze", "bronze/", rec.handle, clock, log)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	n := open()
	etagA := put(t, st, "bronze", "bronze/shipments/dt=2025-01-01/a b.jsonl", `{"x":1}`+"\n")
	put(t, st, "bronze", "elsewhere/c.jsonl", "{}\n")
	put(t, st, "silver", "bronze/d.jsonl", "{}\n")
	// A file dropped in by hand counts as an upload.
	p, err := st.Path("bronze", "bronze/by-hand.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(`[{"x":2}]`), 0o644); err != nil {
		t.Fatal(err)
	}

	res, err := n.Scan(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if res.Delivered != 2 || res.Failed != 0 {
		t.Fatalf("first scan %+v", res)
	}
	if got, want := rec.seen[0], (ingest.Object{Bucket: "bronze", Key: "bronze/by-hand.json", ETag: rec.seen[0].ETag, Size: 9, Sequencer: rec.seen[0].Sequencer, EventName: "ObjectCreated:Put"}); got != want || got.ETag == "" {
		t.Errorf("by-hand event %+v", got)
	}
	if rec.seen[1].ETag != etagA {
		t.Errorf("etag %q, want %q", rec.seen[1].ETag, etagA)
	}
	if got := rec.keys(); !slices.Equal(got, []string{"bronze/by-hand.json", "bronze/shipments/dt=2025-01-01/a b.jsonl"}) {
		t.Fatalf("delivered %q", got)
	}

	// Nothing new: nothing delivered.
	if res, err := n.Scan(t.Context()); err != nil || res.Delivered != 0 || len(rec.seen) != 0 {
		t.Fatalf("second scan %+v %v", res, err)
	}

	// A failing ingest is delivered again on the next scan, until it works.
	put(t, st, "bronze", "bronze/flaky.jsonl", "{}\n")
	rec.fail["bronze/flaky.jsonl"] = true
	if res, _ := n.Scan(t.Context()); res.Failed != 1 || res.Delivered != 0 {
		t.Fatalf("failing scan %+v", res)
	}
	rec.keys()
	delete(rec.fail, "bronze/flaky.jsonl")
	if res, _ := n.Scan(t.Context()); res.Delivered != 1 || !slices.Equal(rec.keys(), []string{"bronze/flaky.jsonl"}) {
		t.Fatalf("retry scan %+v", res)
	}

	// An overwrite is a new version.
	put(t, st, "bronze", "bronze/shipments/dt=2025-01-01/a b.jsonl", `{"x":3}`+"\n")
	if res, _ := n.Scan(t.Context()); res.Delivered != 1 {
		t.Fatalf("overwrite scan %+v", res)
	}
	if rec.seen[0].ETag == etagA {
		t.Error("overwrite delivered the old etag")
	}
	rec.keys()

	// What was delivered survives a restart.
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	n = open()
	defer n.Close()
	if res, err := n.Scan(t.Context()); err != nil || res.Delivered != 0 {
		t.Fatalf("scan after restart %+v %v (%q)", res, err, rec.keys())
	}
}

// A file still being copied in is held back until it has been unmodified
// for the settle time.
func TestNotifierWaitsForObjectsToSettle(t *testing.T) {
	dir := t.TempDir()
	clock := newVirtualClock()
	st, err := fsstore.New(filepath.Join(dir, "store"), fsstore.Options{Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	rec := &recordedIngest{fail: map[string]bool{}}
	n, err := OpenNotifier(dir, st, "bronze", "bronze/", rec.handle, clock.Now, discardLog())
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	n.settle = 2 * time.Second
	put(t, st, "bronze", "bronze/a.jsonl", "{}\n")
	if res, err := n.Scan(t.Context()); err != nil || res.Delivered != 0 || res.Settling != 1 {
		t.Fatalf("fresh object: %+v %v", res, err)
	}
	clock.Sleep(t.Context(), 3*time.Second)
	if res, err := n.Scan(t.Context()); err != nil || res.Delivered != 1 || res.Settling != 0 {
		t.Fatalf("settled object: %+v %v", res, err)
	}
}
