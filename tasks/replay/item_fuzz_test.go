package replay

import (
	"encoding/json"
	"testing"
	"time"
)

// FuzzItem decodes listing items as a distributed Map's ItemReader hands
// them over (outside input): decoding never panics, and a LastModified that
// decodes re-encodes to the same epoch second.
func FuzzItem(f *testing.F) {
	for _, s := range []string{
		`{"Etag":"\"05704fbdccb224cb01c59005bebbad28\"","Key":"bronze/a.jsonl","LastModified":1668699881,"Size":34910,"StorageClass":"STANDARD"}`,
		`{"Key":"k","LastModified":"2026-11-02T08:00:00.5Z","Size":0}`,
		`{"Key":"k","LastModified":1.7e9}`,
		`{"Key":"k","LastModified":"yesterday"}`,
		`{"Key":"k","LastModified":null}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, doc string) {
		var it Item
		if err := json.Unmarshal([]byte(doc), &it); err != nil {
			return
		}
		b, err := json.Marshal(it.LastModified)
		if err != nil {
			t.Fatal(err)
		}
		var back Timestamp
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatalf("%s does not decode: %v", b, err)
		}
		if back.Unix() != it.LastModified.Unix() {
			t.Fatalf("%v -> %s -> %v", it.LastModified.Time, b, back.Time)
		}
	})
}

func TestTimestamp(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Time
		ok   bool
	}{
		{`1668699881`, time.Unix(1668699881, 0).UTC(), true},
		{`"2026-11-02T08:00:00.5+01:00"`, time.Date(2026, 11, 2, 7, 0, 0, 5e8, time.UTC), true},
		{`"2026-11-02"`, time.Time{}, false},
		{`true`, time.Time{}, false},
	} {
		var ts Timestamp
		err := json.Unmarshal([]byte(tc.in), &ts)
		if (err == nil) != tc.ok || (tc.ok && !ts.Equal(tc.want)) {
			t.Errorf("%s: %v %v, want %v ok=%v", tc.in, ts.Time, err, tc.want, tc.ok)
		}
	}
}
