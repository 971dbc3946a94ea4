package fsstore

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/serverless-elt/elt/internal/fault"
	"github.com/serverless-elt/elt/internal/objstore"
	"github.com/serverless-elt/elt/internal/objstore/storetest"
)

// fakeClock is a controllable clock for LastModified stamps.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2025, 12, 31, 23, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Harness {
		clock := newFakeClock()
		s, err := New(t.TempDir(), Options{Now: clock.Now})
		if err != nil {
			t.Fatal(err)
		}
		return storetest.Harness{Store: s, Bucket: "data", OtherBucket: "other", Advance: clock.Advance}
	})
}

func TestContractRealClock(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Harness {
		s, err := New(t.TempDir(), Options{})
		if err != nil {
			t.Fatal(err)
		}
		return storetest.Harness{Store: s, Bucket: "data"}
	})
}

func newStore(t *testing.T) (*Store, *fakeClock) {
	t.Helper()
	clock := newFakeClock()
	s, err := New(t.TempDir(), Options{Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	return s, clock
}

func dropByHand(t *testing.T, s *Store, bucket, key string, body []byte) string {
	t.Helper()
	p, err := s.Path(bucket, key)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, body, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestHandDroppedFile(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	p := dropByHand(t, s, "bronze", "in/by hand.jsonl", []byte("{\"a\":1}\n"))
	info, err := s.Head(ctx, "bronze", "in/by hand.jsonl")
	if err != nil {
		t.Fatalf("Head of a hand-dropped file: %v", err)
	}
	if info.ETag != storetest.MD5Hex([]byte("{\"a\":1}\n")) {
		t.Fatalf("ETag %s", info.ETag)
	}
	fi, _ := os.Stat(p)
	if !info.LastModified.Equal(fi.ModTime()) {
		t.Errorf("LastModified %v, file mtime %v", info.LastModified, fi.ModTime())
	}
	// The computed ETag is cached in the sidecar, keyed by size, mtime, inode and ctime.
	sc, ok := s.readSidecar("bronze", "in/by hand.jsonl")
	if !ok || sc.ETag != info.ETag || !sc.matches(fi) {
		t.Fatalf("sidecar after lazy ETag: %+v %v", sc, ok)
	}
	// Editing the file in place (same inode, new size and mtime) invalidates it.
	later := fi.ModTime().Add(time.Minute)
	if err := os.WriteFile(p, []byte("{\"a\":2}\n{\"a\":3}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	os.Chtimes(p, later, later)
	page, err := s.List(ctx, "bronze", objstore.ListOptions{})
	if err != nil || len(page.Objects) != 1 {
		t.Fatalf("List: %+v %v", page, err)
	}
	if got, want := page.Objects[0].ETag, storetest.MD5Hex([]byte("{\"a\":2}\n{\"a\":3}\n")); got != want {
		t.Errorf("ETag after hand edit %s, want %s", got, want)
	}
	// A replacement with equal size and mtime (and, on most file systems,
	// the same recycled inode) is still told apart by its change time.
	if err := os.Remove(p); err != nil {
		t.Fatal(err)
	}
	dropByHand(t, s, "bronze", "in/by hand.jsonl", []byte("{\"a\":9}\n{\"a\":8}\n"))
	os.Chtimes(p, later, later)
	info, err = s.Head(ctx, "bronze", "in/by hand.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	if want := storetest.MD5Hex([]byte("{\"a\":9}\n{\"a\":8}\n")); info.ETag != want {
		t.Errorf("ETag after replacement with equal size and mtime: %s, want %s", info.ETag, want)
	}
}

func TestHiddenFilesNeverListed(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	if _, err := s.Put(ctx, "b", "x/real.json", strings.NewReader("{}"), &objstore.PutOptions{Metadata: map[string]string{"a": "b"}}); err != nil {
		t.Fatal(err)
	}
	// A temp file left by a crashed write, in the bucket and in a subdirectory.
	for _, rel := range []string{"b/.elt-tmp-123", "b/x/.elt-tmp-456"} {
		if err := os.WriteFile(filepath.Join(s.Root(), rel), []byte("partial"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	page, err := s.List(ctx, "b", objstore.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Objects) != 1 || page.Objects[0].Key != "x/real.json" {
		t.Fatalf("listing shows %+v", page.Objects)
	}
	// The sidecar tree is not a bucket one can list or read.
	if _, err := s.List(ctx, metaDir, objstore.ListOptions{}); !fault.Is(err, fault.InvalidArgument) {
		t.Errorf("listing the metadata dir: %v", err)
	}
	if _, err := s.Head(ctx, "b", ".elt-tmp-123"); !fault.Is(err, fault.InvalidArgument) {
		t.Errorf("Head of a temp file: %v", err)
	}
}

func TestInvalidKeys(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	cases := []struct{ bucket, key string }{
		{"b", ""},
		{"b", "/etc/passwd"},
		{"b", "../escape"},
		{"b", "a/../../escape"},
		{"b", "a/./b"},
		{"b", "a//b"},
		{"b", "folder/"},
		{"b", "nul\x00byte"},
		{"b", "bad\xffutf8"},
		{"b", "x/.elt-tmp-1"},
		{"b", strings.Repeat("k", 1025)},
		{"", "k"},
		{"..", "k"},
		{".elt-meta", "k"},
		{"a/b", "k"},
	}
	for _, tc := range cases {
		_, err := s.Put(ctx, tc.bucket, tc.key, strings.NewReader("x"), nil)
		if !fault.Is(err, fault.InvalidArgument) {
			t.Errorf("Put %q/%q: %v, want InvalidArgument", tc.bucket, tc.key, err)
		}
		if _, err := s.Head(ctx, tc.bucket, tc.key); !fault.Is(err, fault.InvalidArgument) {
			t.Errorf("Head %q/%q: %v, want InvalidArgument", tc.bucket, tc.key, err)
		}
		if err := s.Delete(ctx, tc.bucket, tc.key); !fault.Is(err, fault.InvalidArgument) {
			t.Errorf("Delete %q/%q: %v, want InvalidArgument", tc.bucket, tc.key, err)
		}
	}
	// Nothing escaped the root.
	if _, err := os.Stat(filepath.Join(filepath.Dir(s.Root()), "escape")); err == nil {
		t.Fatal("a write escaped the store root")
	}
	if _, err := s.List(ctx, "b", objstore.ListOptions{ContinuationToken: "not a token!"}); !fault.Is(err, fault.InvalidArgument) {
		t.Errorf("bad token: %v", err)
	}
}

func TestObjectFolderConflict(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	if _, err := s.Put(ctx, "b", "a/b", strings.NewReader("x"), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Put(ctx, "b", "a", strings.NewReader("x"), nil); !fault.Is(err, fault.InvalidArgument) {
		t.Errorf("Put a over folder a/: %v", err)
	}
	if _, err := s.Put(ctx, "b", "a/b/c", strings.NewReader("x"), nil); !fault.Is(err, fault.InvalidArgument) {
		t.Errorf("Put a/b/c through object a/b: %v", err)
	}
	if got, _, err := s.Get(ctx, "b", "a/b", nil); err != nil {
		t.Fatalf("original object damaged: %v", err)
	} else {
		got.Close()
	}
}

func TestSurvivesReopen(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s1, err := New(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	p, err := s1.Put(ctx, "b", "k.json", strings.NewReader("{}"), &objstore.PutOptions{Metadata: map[string]string{"Source": "x"}})
	if err != nil {
		t.Fatal(err)
	}
	s2, err := New(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	h, err := s2.Head(ctx, "b", "k.json")
	if err != nil {
		t.Fatal(err)
	}
	if h.ETag != p.ETag || h.Metadata["source"] != "x" || !h.LastModified.Equal(p.LastModified) {
		t.Errorf("after reopen %+v, want %+v (metadata keys lower-cased)", h, p)
	}
}

func TestClockStampsLastModified(t *testing.T) {
	ctx := context.Background()
	s, clock := newStore(t)
	info, err := s.Put(ctx, "b", "k", strings.NewReader("x"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !info.LastModified.Equal(clock.Now()) {
		t.Errorf("LastModified %v, clock %v", info.LastModified, clock.Now())
	}
}

func TestGetAfterContextCancel(t *testing.T) {
	s, _ := newStore(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Put(ctx, "b", "k", strings.NewReader("x"), nil); !fault.Is(err, fault.Canceled) {
		t.Errorf("Put with cancelled context: %v", err)
	}
	if _, err := s.Head(context.Background(), "b", "k"); !fault.Is(err, fault.NotFound) {
		t.Errorf("a cancelled Put left an object: %v", err)
	}
}

func TestScanner(t *testing.T) {
	ctx := context.Background()
	s, clock := newStore(t)
	put := func(key, body string) {
		t.Helper()
		if _, err := s.Put(ctx, "lake", key, strings.NewReader(body), nil); err != nil {
			t.Fatal(err)
		}
	}
	keys := func(infos []objstore.ObjectInfo) []string {
		var out []string
		for _, o := range infos {
			out = append(out, o.Key)
		}
		return out
	}
	put("bronze/a.jsonl", "a")
	put("silver/ignored.parquet", "s")
	sc := NewScanner(s, "lake", "bronze/", ScanOptions{Settle: 10 * time.Second, Now: clock.Now})

	steps := []struct {
		name   string
		do     func()
		want   []string
		settle bool
	}{
		{"first scan holds back unsettled", func() {}, nil, false},
		{"settled objects reported", func() { clock.Advance(10 * time.Second) }, []string{"bronze/a.jsonl"}, false},
		{"nothing new", func() { clock.Advance(time.Minute) }, nil, false},
		{"hand drop with an old mtime (mv) is reported", func() {
			p := dropByHand(t, s, "lake", "bronze/moved in.jsonl", []byte("m"))
			old := clock.Now().Add(-24 * time.Hour)
			os.Chtimes(p, old, old)
		}, []string{"bronze/moved in.jsonl"}, false},
		{"overwrite reported once settled", func() {
			put("bronze/a.jsonl", "a2")
			clock.Advance(11 * time.Second)
		}, []string{"bronze/a.jsonl"}, false},
		{"delete then re-add reported", func() {
			s.Delete(ctx, "lake", "bronze/a.jsonl")
			if got, err := sc.Scan(ctx); err != nil || len(got) != 0 {
				t.Fatalf("scan after delete: %v %v", got, err)
			}
			put("bronze/a.jsonl", "a2")
			clock.Advance(11 * time.Second)
		}, []string{"bronze/a.jsonl"}, false},
	}
	for _, st := range steps {
		st.do()
		got, err := sc.Scan(ctx)
		if err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if !slices.Equal(keys(got), st.want) {
			t.Errorf("%s: got %q want %q", st.name, keys(got), st.want)
		}
	}

	primed := NewScanner(s, "lake", "bronze/", ScanOptions{})
	if err := primed.Prime(ctx); err != nil {
		t.Fatal(err)
	}
	put("bronze/new.jsonl", "n")
	if got, _ := primed.Scan(ctx); !slices.Equal(keys(got), []string{"bronze/new.jsonl"}) {
		t.Errorf("after Prime: %q", keys(got))
	}
}

func TestRangedReadConsistentDuringReplace(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	if _, err := s.Put(ctx, "b", "k", strings.NewReader("old-old-old"), nil); err != nil {
		t.Fatal(err)
	}
	rc, info, err := s.Get(ctx, "b", "k", &objstore.GetOptions{Range: &objstore.Range{Offset: 4, Length: -1}})
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	if _, err := s.Put(ctx, "b", "k", strings.NewReader("new"), nil); err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(rc)
	if !bytes.Equal(got, []byte("old-old")) || info.ETag != storetest.MD5Hex([]byte("old-old-old")) {
		t.Errorf("open reader saw %q (etag %s) after the object was replaced", got, info.ETag)
	}
}

// FuzzKeyPath: any key the store accepts maps to a path inside its bucket.
func FuzzKeyPath(f *testing.F) {
	for _, seed := range []string{"a/b", "../x", "a/../../b", "dt=2025-01-01/x y.jsonl", "/abs", "日本/語", "a//b", ".elt-tmp-x"} {
		f.Add(seed)
	}
	s := &Store{root: "/root"}
	f.Fuzz(func(t *testing.T, key string) {
		p, err := s.Path("bucket", key)
		if err != nil {
			if !fault.Is(err, fault.InvalidArgument) {
				t.Fatalf("refusal with code %s", fault.CodeOf(err))
			}
			return
		}
		rel, err := filepath.Rel("/root/bucket", p)
		if err != nil || rel == "." || rel == ".." || strings.HasPrefix(rel, "../") || filepath.ToSlash(rel) != key {
			t.Fatalf("key %q maps to %q (rel %q)", key, p, rel)
		}
	})
}

// FuzzContinuationToken: tokens round-trip and junk is refused, never panics.
func FuzzContinuationToken(f *testing.F) {
	f.Add("p/a/b")
	f.Add("")
	f.Add("ünïcode key=1%")
	f.Fuzz(func(t *testing.T, key string) {
		got, err := decodeToken(encodeToken(key))
		if err != nil || got != key {
			t.Fatalf("round trip %q -> %q, %v", key, got, err)
		}
		decodeToken(key) // must not panic
	})
}

func BenchmarkPut1MiB(b *testing.B) {
	s, err := New(b.TempDir(), Options{})
	if err != nil {
		b.Fatal(err)
	}
	body := bytes.Repeat([]byte("x"), 1<<20)
	b.SetBytes(int64(len(body)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := s.Put(context.Background(), "b", "k.bin", bytes.NewReader(body), nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkListPage1000 lists a page of 1000 objects spread over 10 folders.
func BenchmarkListPage1000(b *testing.B) {
	ctx := context.Background()
	s, err := New(b.TempDir(), Options{})
	if err != nil {
		b.Fatal(err)
	}
	for i := 0; i < 1000; i++ {
		if _, err := s.Put(ctx, "b", fmt.Sprintf("bronze/dt=2025-01-%02d/obj-%04d.jsonl", 1+i%10, i), strings.NewReader("{}"), nil); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		p, err := s.List(ctx, "b", objstore.ListOptions{Prefix: "bronze/"})
		if err != nil || len(p.Objects) != 1000 {
			b.Fatal(len(p.Objects), err)
		}
	}
}

// After a Put the sidecar describes the file, so reads and listings never
// rehash (or rewrite the sidecar).
func TestPutSidecarIsTrusted(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	if _, err := s.Put(ctx, "b", "dir/k.json", strings.NewReader("{}"), nil); err != nil {
		t.Fatal(err)
	}
	p, _ := s.Path("b", "dir/k.json")
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	sc, ok := s.readSidecar("b", "dir/k.json")
	if !ok || !sc.matches(fi) {
		t.Fatalf("sidecar %+v does not match the file just put", sc)
	}
	meta := s.metaPath("b", "dir/k.json")
	before, _ := os.Stat(meta)
	if _, err := s.List(ctx, "b", objstore.ListOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Head(ctx, "b", "dir/k.json"); err != nil {
		t.Fatal(err)
	}
	after, _ := os.Stat(meta)
	if !os.SameFile(before, after) {
		t.Error("reading rewrote the sidecar")
	}
}

// A copy keeps the source's content type whether or not it replaces the
// metadata (what s3store does by passing the source's Content-Type with
// MetadataDirective REPLACE).
func TestCopyKeepsContentType(t *testing.T) {
	ctx := context.Background()
	s, err := New(t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CreateBucket("b"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Put(ctx, "b", "src.jsonl", strings.NewReader("{}\n"), &objstore.PutOptions{ContentType: "application/x-ndjson", Metadata: map[string]string{"a": "1"}}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		opts *objstore.CopyOptions
		meta map[string]string
	}{
		{"nil options", nil, map[string]string{"a": "1"}},
		{"new metadata", &objstore.CopyOptions{Metadata: map[string]string{"B": "2"}}, map[string]string{"b": "2"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := s.Copy(ctx, "b", "src.jsonl", "b", "dst.jsonl", tc.opts); err != nil {
				t.Fatal(err)
			}
			sc, ok := s.readSidecar("b", "dst.jsonl")
			if !ok || sc.ContentType != "application/x-ndjson" || !maps.Equal(sc.Metadata, tc.meta) {
				t.Fatalf("copy sidecar %+v (found %v), want content type application/x-ndjson and metadata %v", sc, ok, tc.meta)
			}
		})
	}
}
