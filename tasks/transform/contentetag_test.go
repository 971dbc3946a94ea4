package transform

import (
	"context"
	"testing"

	"github.com/serverless-elt/elt/internal/objstore"
	"github.com/serverless-elt/elt/internal/objstore/copyetag"
	"github.com/serverless-elt/elt/internal/work"
)

// withContentETag sets the content identity on every message of in, as
// ingest does for a copy that carries elt-content-etag.
func withContentETag(t *testing.T, in Input, content string) Input {
	t.Helper()
	for i, m := range in.Records {
		it, err := work.Decode(m.Body)
		if err != nil {
			t.Fatal(err)
		}
		it.ContentETag = content
		if in.Records[i].Body, err = it.Encode(); err != nil {
			t.Fatal(err)
		}
	}
	return in
}

// A replay copy that S3 gave a new ETag rewrites its original's silver and
// quarantine files when its work items carry the original's content
// identity (reads stay pinned to the copy's own ETag), and its receipts go
// under that identity, naming the copy and its real ETag. Without the
// identity, the same copy adds its rows a second time: the case the
// identity exists for.
func TestCopyWithNewETagRewritesOriginalFiles(t *testing.T) {
	tests := []struct {
		name     string
		identity bool
	}{
		{"content identity", true},
		{"no content identity (before the fix)", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			var st *copyetag.Store
			e := newEnv(t, func(s objstore.Store) objstore.Store { st = copyetag.Wrap(s); return st })
			content, good, bad := bronze()
			oi := e.put(t, "bronze/mixed.jsonl", []byte(content))
			if _, err := e.h.Handle(ctx, messages(t, oi, 10_000, work.JSONL, false)); err != nil {
				t.Fatal(err)
			}
			before, _ := e.store.List(ctx, "lake", objstore.ListOptions{Prefix: "silver/"})

			cp, err := st.Copy(ctx, "raw", "bronze/mixed.jsonl", "raw", "bronze/replay/x/mixed.jsonl",
				&objstore.CopyOptions{IfMatch: oi.ETag, Metadata: map[string]string{work.ContentETagMeta: oi.ETag}})
			if err != nil {
				t.Fatal(err)
			}
			if cp.ETag == oi.ETag {
				t.Fatal("the wrapper kept the ETag")
			}
			in := messages(t, cp, 10_000, work.JSONL, false)
			if tc.identity {
				if got := work.ContentETagOf(cp); got != oi.ETag {
					t.Fatalf("content identity of the copy %q, want %q", got, oi.ETag)
				}
				in = withContentETag(t, in, oi.ETag)
			}
			out, err := e.h.Handle(ctx, in)
			if err != nil || len(out.BatchItemFailures) != 0 || out.Rows != int64(good) {
				t.Fatalf("copy: out %+v, %v", out, err)
			}

			ids, q := e.silverRows(t)
			unique := map[string]bool{}
			for _, id := range ids {
				unique[id] = true
			}
			after, _ := e.store.List(ctx, "lake", objstore.ListOptions{Prefix: "silver/"})
			if !tc.identity {
				if len(ids) != 2*good || len(after.Objects) != 2*len(before.Objects) {
					t.Fatalf("without the identity: %d rows, %d files; the copy should have added its rows again (%d, %d files before)",
						len(ids), len(after.Objects), good, len(before.Objects))
				}
				return
			}
			if len(ids) != good || len(unique) != good || q != bad || len(after.Objects) != len(before.Objects) {
				t.Fatalf("after the copy: %d rows (%d unique), %d quarantined, %d silver files; want %d, %d, %d files",
					len(ids), len(unique), q, len(after.Objects), good, bad, len(before.Objects))
			}
			for i := range in.Records {
				r := readReceipt(t, e.store, "lake", ReceiptKey("raw", "bronze/replay/x/mixed.jsonl", oi.ETag, i))
				if r.Key != "bronze/replay/x/mixed.jsonl" || r.ETag != cp.ETag || r.ContentETag != oi.ETag || r.Identity() != oi.ETag {
					t.Fatalf("copy receipt %d: %+v", i, r)
				}
				for _, f := range r.Files {
					if _, err := e.store.Head(ctx, "lake", f.Key); err != nil {
						t.Fatalf("receipt names %s: %v", f.Key, err)
					}
				}
			}
			if page, _ := e.store.List(ctx, "lake", objstore.ListOptions{Prefix: ReceiptObjectPrefix(cp.ETag)}); len(page.Objects) != 0 {
				t.Fatalf("%d receipts under the copy's own ETag", len(page.Objects))
			}
			// The original's receipts are untouched and carry no content_etag.
			if r := readReceipt(t, e.store, "lake", ReceiptKey("raw", "bronze/mixed.jsonl", oi.ETag, 0)); r.ContentETag != "" || r.ETag != oi.ETag {
				t.Fatalf("original receipt %+v", r)
			}
		})
	}
}
