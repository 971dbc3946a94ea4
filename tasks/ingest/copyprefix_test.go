package ingest

import (
	"bufio"
	"encoding/json"
	"testing"

	"github.com/serverless-elt/elt/internal/objstore"
	"github.com/serverless-elt/elt/internal/work"
)

// The content identity in metadata is believed only under the replay copy
// prefixes (where only replay can write); anywhere else a bronze writer
// could name its rows after another object and overwrite that object's
// silver files, so the metadata is ignored with one warning per object and
// the identity is the object's own ETag.
func TestContentETagTrustedOnlyUnderCopyPrefixes(t *testing.T) {
	const victim = "0123456789abcdef0123456789abcdef" // another object's ETag
	forged := map[string]string{work.ContentETagMeta: victim}
	tests := []struct {
		name     string
		prefixes []string // Config.CopyPrefixes
		key      string
		meta     map[string]string
		want     string // Item.ContentETag ("" = the object's own ETag)
		warn     bool
	}{
		{"replay copy under the default prefix", nil, "bronze/replay/manual/run-1/a.jsonl", forged, victim, false},
		{"forged metadata on an upload", nil, "bronze/shipments/a.jsonl", forged, "", true},
		{"lookalike of the copy prefix", nil, "bronze/replay-not/a.jsonl", forged, "", true},
		{"upload without metadata", nil, "bronze/shipments/a.jsonl", nil, "", false},
		{"upload with other metadata only", nil, "bronze/shipments/a.jsonl", map[string]string{"origin": "x"}, "", false},
		{"configured prefix", []string{"bronze/copies/"}, "bronze/copies/run-1/a.jsonl", forged, victim, false},
		{"default prefix when another is configured", []string{"bronze/copies/"}, "bronze/replay/run-1/a.jsonl", forged, "", true},
		{"empty list trusts nothing", []string{}, "bronze/replay/run-1/a.jsonl", forged, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, Config{ChunkBytes: 100, CopyPrefixes: tt.prefixes})
			f.store.objs["bronze/"+tt.key] = objstore.ObjectInfo{Bucket: "bronze", Key: tt.key, ETag: "own1", Size: 250, Metadata: tt.meta}
			out, err := f.h.Handle(t.Context(), event(created("bronze", tt.key, `"own1"`)))
			if err != nil || out.Claimed != 1 || out.Messages != 3 {
				t.Fatalf("out %+v, %v", out, err)
			}
			for _, it := range decodeSent(t, f.queue) {
				if it.ETag != "own1" || it.ContentETag != tt.want {
					t.Fatalf("item etag %q content_etag %q, want own1 and %q", it.ETag, it.ContentETag, tt.want)
				}
			}
			var warnings []map[string]any
			sc := bufio.NewScanner(&f.logs)
			for sc.Scan() {
				var rec map[string]any
				if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
					t.Fatalf("log line %q: %v", sc.Text(), err)
				}
				if rec["msg"] == "ingest.content_etag_ignored" {
					warnings = append(warnings, rec)
				}
			}
			if !tt.warn {
				if len(warnings) != 0 {
					t.Fatalf("unexpected warnings %v", warnings)
				}
				return
			}
			// One warning for the object, not one per chunk.
			if len(warnings) != 1 {
				t.Fatalf("%d warnings, want 1: %v", len(warnings), warnings)
			}
			w := warnings[0]
			if w["level"] != "WARN" || w["key"] != tt.key || w["bucket"] != "bronze" || w["value"] != victim || w["metadata"] != work.ContentETagMeta {
				t.Fatalf("warning %v", w)
			}
		})
	}
}
