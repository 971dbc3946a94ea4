package copyetag

import (
	"context"
	"io"
	"strings"
	"testing"

	"github.com/serverless-elt/elt/internal/fault"
	"github.com/serverless-elt/elt/internal/objstore"
	"github.com/serverless-elt/elt/internal/objstore/fsstore"
)

func newStore(t *testing.T) (*Store, *fsstore.Store) {
	t.Helper()
	fs, err := fsstore.New(t.TempDir(), fsstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := fs.CreateBucket("b"); err != nil {
		t.Fatal(err)
	}
	return Wrap(fs), fs
}

func TestCopiesGetANewETag(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	src, err := s.Put(ctx, "b", "src.jsonl", strings.NewReader("{}\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	cp, err := s.Copy(ctx, "b", "src.jsonl", "b", "dst.jsonl", &objstore.CopyOptions{IfMatch: src.ETag, Metadata: map[string]string{"k": "v"}})
	if err != nil {
		t.Fatal(err)
	}
	want := CopyETag(src.ETag)
	if cp.ETag == src.ETag || cp.ETag != want || cp.Metadata["k"] != "v" {
		t.Fatalf("copy %+v, want ETag %s (source %s) and the metadata", cp, want, src.ETag)
	}
	head, err := s.Head(ctx, "b", "dst.jsonl")
	if err != nil || head.ETag != want {
		t.Fatalf("Head %+v %v", head, err)
	}
	if sh, _ := s.Head(ctx, "b", "src.jsonl"); sh.ETag != src.ETag {
		t.Fatalf("source ETag changed to %s", sh.ETag)
	}
	page, err := s.List(ctx, "b", objstore.ListOptions{})
	if err != nil || len(page.Objects) != 2 || page.Objects[0].ETag != want || page.Objects[1].ETag != src.ETag {
		t.Fatalf("List %+v %v", page, err)
	}
	tests := []struct {
		name    string
		ifMatch string
		ok      bool
	}{
		{"the copy's ETag", want, true},
		{"quoted", `"` + want + `"`, true},
		{"the source's ETag", src.ETag, false},
	}
	for _, tc := range tests {
		t.Run("Get IfMatch "+tc.name, func(t *testing.T) {
			rc, info, err := s.Get(ctx, "b", "dst.jsonl", &objstore.GetOptions{IfMatch: tc.ifMatch})
			if !tc.ok {
				if !fault.Is(err, fault.PreconditionFailed) {
					t.Fatalf("Get: %v, want PreconditionFailed", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer rc.Close()
			b, _ := io.ReadAll(rc)
			if string(b) != "{}\n" || info.ETag != want {
				t.Fatalf("Get %q %+v", b, info)
			}
		})
		t.Run("Copy IfMatch "+tc.name, func(t *testing.T) {
			cc, err := s.Copy(ctx, "b", "dst.jsonl", "b", "dst2.jsonl", &objstore.CopyOptions{IfMatch: tc.ifMatch})
			if !tc.ok {
				if !fault.Is(err, fault.PreconditionFailed) {
					t.Fatalf("Copy: %v, want PreconditionFailed", err)
				}
				return
			}
			// A copy of the copy has the same content: the same ETag, as on S3.
			if err != nil || cc.ETag != want {
				t.Fatalf("copy of the copy %+v %v", cc, err)
			}
		})
	}
	// A Put over the copy ends the override.
	over, err := s.Put(ctx, "b", "dst.jsonl", strings.NewReader("{}\n"), nil)
	if err != nil || over.ETag != src.ETag {
		t.Fatalf("Put over the copy %+v %v", over, err)
	}
	if h, _ := s.Head(ctx, "b", "dst.jsonl"); h.ETag != src.ETag {
		t.Fatalf("Head after Put %s, want %s", h.ETag, src.ETag)
	}
}
