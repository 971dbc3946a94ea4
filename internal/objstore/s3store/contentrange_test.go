package s3store

import (
	"strconv"
	"strings"
	"testing"
)

func TestTotalFromContentRange(t *testing.T) {
	cases := []struct {
		in      string
		want    int64
		wantErr bool
	}{
		{"", -1, false},
		{"bytes 0-4/20", 20, false},
		{"bytes 19-19/20", 20, false},
		{"bytes 0-4/*", -1, false},
		{"bytes */20", 20, false},
		{"bytes 0-4", 0, true},
		{"bytes 0-4/x", 0, true},
		{"bytes 0-4/20x", 0, true},
		{"bytes 0-4/-1", 0, true},
	}
	for _, tc := range cases {
		got, err := totalFromContentRange(tc.in)
		if (err != nil) != tc.wantErr || (!tc.wantErr && got != tc.want) {
			t.Errorf("totalFromContentRange(%q) = %d, %v; want %d (err %v)", tc.in, got, err, tc.want, tc.wantErr)
		}
	}
}

// FuzzContentRange: the Content-Range header comes from the server; the
// parser never panics, and a total it accepts is what follows the last '/'.
func FuzzContentRange(f *testing.F) {
	for _, s := range []string{"bytes 0-4/20", "bytes */0", "bytes 1-2/*", "/", "bytes 0-0/9223372036854775807"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := totalFromContentRange(s)
		if err != nil || n < 0 {
			return
		}
		tail := s[strings.LastIndexByte(s, '/')+1:]
		if want, perr := strconv.ParseInt(tail, 10, 64); perr != nil || want != n {
			t.Fatalf("%q -> %d, but its total %q parses as %d (%v)", s, n, tail, want, perr)
		}
	})
}
