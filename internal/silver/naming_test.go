package silver

import (
	"bufio"
	"context"
	"encoding/json"
	"testing"

	"github.com/serverless-elt/elt/internal/objstore"
)

// A replay copy that S3 gave a new ETag (a multipart-uploaded original
// copied with one CopyObject) names its outputs by the content identity it
// carries, so it rewrites the original's files; without that identity it
// would add new files (the rows twice). Lineage keeps the copy's real ETag.
func TestContentETagNamesOutputs(t *testing.T) {
	tests := []struct {
		name        string
		contentETag string
		wantSame    bool
	}{
		{"content identity of the original", src.ETag, true},
		{"no content identity", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := newStore(t)
			a := writeSamples(t, st, src)
			cp := src
			cp.Key, cp.ETag, cp.ContentETag = "bronze/replay/r1/a.jsonl", "99999999999999999999999999999999", tc.contentETag
			b := writeSamples(t, st, cp)
			page, err := st.List(context.Background(), "lake", objstore.ListOptions{})
			if err != nil {
				t.Fatal(err)
			}
			same := len(a) == len(b)
			for i := 0; same && i < len(a); i++ {
				same = a[i].Key == b[i].Key
			}
			if same != tc.wantSame {
				t.Fatalf("copy rewrote the original's keys: %v, want %v (%v vs %v)", same, tc.wantSame, a, b)
			}
			if want := len(a) + len(b); tc.wantSame {
				if len(page.Objects) != len(a) {
					t.Fatalf("%d files after the copy, want %d", len(page.Objects), len(a))
				}
			} else if len(page.Objects) != want {
				t.Fatalf("%d files after the copy, want %d", len(page.Objects), want)
			}
			// The quarantine lines of the copy name the copy and its real ETag.
			for _, w := range b {
				if w.Kind != "quarantine" {
					continue
				}
				rc, _, err := st.Get(context.Background(), "lake", w.Key, nil)
				if err != nil {
					t.Fatal(err)
				}
				sc := bufio.NewScanner(rc)
				for sc.Scan() {
					var e struct {
						Source struct{ Key, ETag string }
					}
					if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
						t.Fatal(err)
					}
					if e.Source.Key != cp.Key || e.Source.ETag != cp.ETag {
						t.Fatalf("quarantine lineage %+v, want key %s etag %s", e.Source, cp.Key, cp.ETag)
					}
				}
				rc.Close()
			}
		})
	}
}
