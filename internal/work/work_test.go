package work

import (
	"strings"
	"testing"
	"time"

	"github.com/serverless-elt/elt/internal/objstore"
)

func TestContentETagOf(t *testing.T) {
	const etag = "0123456789abcdef0123456789abcdef"
	tests := []struct {
		name string
		meta map[string]string
		want string
	}{
		{"no metadata", nil, etag},
		{"multipart original", map[string]string{ContentETagMeta: "fedcba9876543210fedcba9876543210-3"}, "fedcba9876543210fedcba9876543210-3"},
		{"quoted", map[string]string{ContentETagMeta: ` "abc" `}, "abc"},
		{"empty value", map[string]string{ContentETagMeta: ""}, etag},
		{"path characters", map[string]string{ContentETagMeta: "../silver/x"}, etag},
		{"space inside", map[string]string{ContentETagMeta: "ab cd"}, etag},
		{"too long", map[string]string{ContentETagMeta: strings.Repeat("a", 129)}, etag},
		{"longest allowed", map[string]string{ContentETagMeta: strings.Repeat("a", 128)}, strings.Repeat("a", 128)},
		{"other keys only", map[string]string{"origin": "x"}, etag},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := ContentETagOf(objstore.ObjectInfo{ETag: etag, Metadata: tc.meta})
			if got != tc.want {
				t.Fatalf("ContentETagOf = %q, want %q", got, tc.want)
			}
		})
	}
}

// Messages without content_etag (older ingests, objects that are not
// copies) decode to an identity equal to the ETag, and an item encodes
// content_etag only when it has one.
func TestContentETagOnTheWire(t *testing.T) {
	old := `{"bucket":"raw","key":"bronze/a.jsonl","etag":"e1","size":3,"range":{"offset":0,"length":-1},"chunk":0,"chunks":1,"format":"jsonl","ingested_at":"2026-01-01T00:00:00Z"}`
	it, err := Decode(old)
	if err != nil {
		t.Fatal(err)
	}
	if it.ContentETag != "" || it.Identity() != "e1" {
		t.Fatalf("old message: content etag %q identity %q", it.ContentETag, it.Identity())
	}
	body, err := it.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if body != old {
		t.Fatalf("re-encoded old message changed:\n%s\n%s", body, old)
	}
	it = Item{Bucket: "raw", Key: "bronze/replay/r/a.jsonl", ETag: "e2", ContentETag: "e1-2", Range: objstore.Range{Length: -1},
		Chunks: 1, Format: JSONL, IngestedAt: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	body, err = it.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(body, `"etag":"e2","content_etag":"e1-2"`) {
		t.Fatalf("encoded copy item %s", body)
	}
	back, err := Decode(body)
	if err != nil || back.Identity() != "e1-2" || back.ETag != "e2" {
		t.Fatalf("decoded %+v, %v", back, err)
	}
}

// Only keys under the copy prefixes may carry a content identity; elsewhere
// the metadata is ignored (and reported) and the identity is the ETag.
func TestContentETagUnder(t *testing.T) {
	const etag = "0123456789abcdef0123456789abcdef"
	forged := map[string]string{ContentETagMeta: "fedcba9876543210fedcba9876543210"}
	tests := []struct {
		name        string
		prefixes    []string
		key         string
		meta        map[string]string
		want        string
		wantIgnored bool
	}{
		{"copy under the default prefix", DefaultCopyPrefixes("bronze/"), "bronze/replay/run/a.jsonl", forged, "fedcba9876543210fedcba9876543210", false},
		{"metadata outside the copy prefixes", DefaultCopyPrefixes("bronze/"), "bronze/shipments/a.jsonl", forged, etag, true},
		{"lookalike prefix", DefaultCopyPrefixes("bronze/"), "bronze/replay-x/a.jsonl", forged, etag, true},
		{"no metadata outside", DefaultCopyPrefixes("bronze/"), "bronze/shipments/a.jsonl", nil, etag, false},
		{"blank metadata outside", DefaultCopyPrefixes("bronze/"), "bronze/shipments/a.jsonl", map[string]string{ContentETagMeta: " "}, etag, false},
		{"second configured prefix", []string{"bronze/replay/", "bronze/archive/"}, "bronze/archive/a.jsonl", forged, "fedcba9876543210fedcba9876543210", false},
		{"no prefixes trusts nothing", nil, "bronze/replay/run/a.jsonl", forged, etag, true},
		{"empty prefix is not everything", []string{""}, "bronze/replay/run/a.jsonl", forged, etag, true},
		{"unusable value under the prefix", DefaultCopyPrefixes("bronze"), "bronze/replay/a.jsonl", map[string]string{ContentETagMeta: "../x"}, etag, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ignored := ContentETagUnder(tc.prefixes, tc.key, objstore.ObjectInfo{ETag: `"` + etag + `"`, Metadata: tc.meta})
			if got != tc.want || ignored != tc.wantIgnored {
				t.Fatalf("ContentETagUnder = %q, %v; want %q, %v", got, ignored, tc.want, tc.wantIgnored)
			}
		})
	}
}
