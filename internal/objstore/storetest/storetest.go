// Package storetest is the contract suite every objstore.Store driver must
// pass (the go-cloud drivertest idea): the directory-tree driver and the S3
// driver run the same subtests, so the tasks can rely on one behaviour.
//
// A driver's test calls
//
//	storetest.Run(t, func(t *testing.T) storetest.Harness { ... })
//
// and the suite asks for a fresh harness (an empty bucket) per subtest.
//
// Semantics pinned here (S3's, https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html):
//   - ETag of a single-part put is the lower-case hex MD5 of the content, without quotes.
//   - A ranged read returns [Offset, Offset+Length) truncated at the end of the object;
//     Length < 0 reads to the end; an Offset at or past the end is fault.InvalidArgument
//     (S3 416 InvalidRange). The returned ObjectInfo.Size is the whole object's size.
//   - IfMatch that does not hold is fault.PreconditionFailed; a missing object is fault.NotFound.
//   - Delete of a missing object succeeds.
//   - List is in lexicographic (byte) key order; StartAfter is exclusive; continuation tokens
//     cover every key exactly once.
package storetest

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/serverless-elt/elt/internal/fault"
	"github.com/serverless-elt/elt/internal/objstore"
)

// Harness is one fresh store for one subtest.
type Harness struct {
	// Store is the store under test.
	Store objstore.Store
	// Bucket exists and is empty.
	Bucket string
	// OtherBucket, when set, is a second existing bucket for cross-bucket copies.
	OtherBucket string
	// Advance moves the store's clock forward. Nil means the store runs on
	// the real clock (S3 servers); the suite then only checks orderings that
	// hold without waiting.
	Advance func(time.Duration)
}

// MakeHarness returns a fresh harness; it registers its own cleanup on t.
type MakeHarness func(t *testing.T) Harness

// Run runs the whole contract suite.
func Run(t *testing.T, newHarness MakeHarness) {
	tests := []struct {
		name string
		fn   func(*testing.T, Harness)
	}{
		{"PutGetRoundTrip", testPutGetRoundTrip},
		{"Head", testHead},
		{"Missing", testMissing},
		{"RangedGet", testRangedGet},
		{"IfMatch", testIfMatch},
		{"Overwrite", testOverwrite},
		{"AtomicOverwrite", testAtomicOverwrite},
		{"FailedPutLeavesNoTrace", testFailedPut},
		{"Copy", testCopy},
		{"CopyOtherBucket", testCopyOtherBucket},
		{"CopyMetadata", testCopyMetadata},
		{"CopyIfMatch", testCopyIfMatch},
		{"Delete", testDelete},
		{"ListOrder", testListOrder},
		{"ListPrefix", testListPrefix},
		{"ListStartAfter", testListStartAfter},
		{"ListPagination", testListPagination},
		{"ListInfo", testListInfo},
		{"ParallelPuts", testParallelPuts},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.fn(t, newHarness(t))
		})
	}
}

// MD5Hex is the ETag S3 gives a single-part object with this content.
func MD5Hex(b []byte) string {
	sum := md5.Sum(b)
	return hex.EncodeToString(sum[:])
}

func put(t *testing.T, h Harness, key string, body []byte, opts *objstore.PutOptions) objstore.ObjectInfo {
	t.Helper()
	info, err := h.Store.Put(context.Background(), h.Bucket, key, bytes.NewReader(body), opts)
	if err != nil {
		t.Fatalf("Put %q: %v", key, err)
	}
	return info
}

// Read returns the whole object at bucket/key, failing t if it cannot be
// read: for the tests of code that writes through an objstore.Store.
func Read(t testing.TB, s objstore.Store, bucket, key string) []byte {
	t.Helper()
	b, _ := get(t, s, bucket, key, nil)
	return b
}

func get(t testing.TB, s objstore.Store, bucket, key string, opts *objstore.GetOptions) ([]byte, objstore.ObjectInfo) {
	t.Helper()
	rc, info, err := s.Get(context.Background(), bucket, key, opts)
	if err != nil {
		t.Fatalf("Get %q: %v", key, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("read %q: %v", key, err)
	}
	return b, info
}

func wantCode(t *testing.T, what string, err error, code fault.Code) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s: got no error, want %s", what, code)
	}
	if got := fault.CodeOf(err); got != code {
		t.Fatalf("%s: got code %s (%v), want %s", what, got, err, code)
	}
}

func randomBytes(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.UintN(256))
	}
	return b
}

func testPutGetRoundTrip(t *testing.T, h Harness) {
	cases := []struct {
		name string
		key  string
		body []byte
		meta map[string]string
	}{
		{"empty", "empty.txt", []byte{}, nil},
		{"small", "small.jsonl", []byte("{\"a\":1}\n{\"a\":2}\n"), nil},
		{"binary 1MiB", "bin/one-mib.bin", randomBytes(1, 1<<20), nil},
		{"metadata", "meta.json", []byte(`{}`), map[string]string{"source": "test", "chunk": "3"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			want := MD5Hex(tc.body)
			info := put(t, h, tc.key, tc.body, &objstore.PutOptions{ContentType: "application/octet-stream", Metadata: tc.meta})
			if info.ETag != want {
				t.Errorf("Put ETag = %q, want %q (hex MD5, no quotes)", info.ETag, want)
			}
			if info.Size != int64(len(tc.body)) || info.Key != tc.key || info.Bucket != h.Bucket {
				t.Errorf("Put info = %+v, want bucket %q key %q size %d", info, h.Bucket, tc.key, len(tc.body))
			}
			got, ginfo := get(t, h.Store, h.Bucket, tc.key, nil)
			if !bytes.Equal(got, tc.body) {
				t.Fatalf("Get returned %d bytes, want the %d put", len(got), len(tc.body))
			}
			if ginfo.ETag != want || ginfo.Size != int64(len(tc.body)) {
				t.Errorf("Get info ETag %q size %d, want %q %d", ginfo.ETag, ginfo.Size, want, len(tc.body))
			}
			for k, v := range tc.meta {
				if ginfo.Metadata[k] != v {
					t.Errorf("Get metadata[%q] = %q, want %q (all: %v)", k, ginfo.Metadata[k], v, ginfo.Metadata)
				}
			}
		})
	}
}

func testHead(t *testing.T, h Harness) {
	body := []byte("hello head")
	p := put(t, h, "dir/head.txt", body, &objstore.PutOptions{Metadata: map[string]string{"k": "v"}})
	info, err := h.Store.Head(context.Background(), h.Bucket, "dir/head.txt")
	if err != nil {
		t.Fatalf("Head: %v", err)
	}
	if info.ETag != p.ETag || info.ETag != MD5Hex(body) || info.Size != int64(len(body)) {
		t.Errorf("Head = %+v, want ETag %s size %d", info, MD5Hex(body), len(body))
	}
	if info.Key != "dir/head.txt" || info.Bucket != h.Bucket {
		t.Errorf("Head names %s/%s", info.Bucket, info.Key)
	}
	if info.LastModified.IsZero() {
		t.Errorf("Head LastModified is zero")
	}
	if info.Metadata["k"] != "v" {
		t.Errorf("Head metadata = %v, want k=v", info.Metadata)
	}
}

func testMissing(t *testing.T, h Harness) {
	ctx := context.Background()
	put(t, h, "present/x", []byte("x"), nil)
	for _, key := range []string{"absent", "present/y", "present/x/deeper", "presen"} {
		_, err := h.Store.Head(ctx, h.Bucket, key)
		wantCode(t, "Head "+key, err, fault.NotFound)
		rc, _, err := h.Store.Get(ctx, h.Bucket, key, nil)
		if rc != nil {
			rc.Close()
		}
		wantCode(t, "Get "+key, err, fault.NotFound)
		_, err = h.Store.Copy(ctx, h.Bucket, key, h.Bucket, "copy-of-missing", nil)
		wantCode(t, "Copy "+key, err, fault.NotFound)
	}
	// Getting a "directory" (a prefix that has objects under it) is not an object either.
	_, err := h.Store.Head(ctx, h.Bucket, "present")
	wantCode(t, "Head of a prefix", err, fault.NotFound)
}

func testRangedGet(t *testing.T, h Harness) {
	body := []byte("0123456789abcdefghij") // 20 bytes
	info := put(t, h, "range.txt", body, nil)
	cases := []struct {
		name   string
		rng    objstore.Range
		want   string
		failOn fault.Code
	}{
		{"first bytes", objstore.Range{Offset: 0, Length: 5}, "01234", 0},
		{"middle", objstore.Range{Offset: 7, Length: 6}, "789abc", 0},
		{"last byte", objstore.Range{Offset: 19, Length: 1}, "j", 0},
		{"to end", objstore.Range{Offset: 15, Length: -1}, "fghij", 0},
		{"whole by -1", objstore.Range{Offset: 0, Length: -1}, string(body), 0},
		{"past end truncated", objstore.Range{Offset: 16, Length: 100}, "ghij", 0},
		{"offset at end", objstore.Range{Offset: 20, Length: 1}, "", fault.InvalidArgument},
		{"offset beyond end", objstore.Range{Offset: 50, Length: -1}, "", fault.InvalidArgument},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.rng
			if tc.failOn != 0 {
				rc, _, err := h.Store.Get(context.Background(), h.Bucket, "range.txt", &objstore.GetOptions{Range: &r})
				if rc != nil {
					rc.Close()
				}
				wantCode(t, fmt.Sprintf("Get range %+v", r), err, tc.failOn)
				return
			}
			got, ginfo := get(t, h.Store, h.Bucket, "range.txt", &objstore.GetOptions{Range: &r, IfMatch: info.ETag})
			if string(got) != tc.want {
				t.Errorf("range %+v = %q, want %q", r, got, tc.want)
			}
			if ginfo.Size != int64(len(body)) || ginfo.ETag != info.ETag {
				t.Errorf("ranged Get info size %d etag %s, want the whole object's %d %s", ginfo.Size, ginfo.ETag, len(body), info.ETag)
			}
		})
	}
}

func testIfMatch(t *testing.T, h Harness) {
	ctx := context.Background()
	info := put(t, h, "pinned.jsonl", []byte("v1\n"), nil)
	got, _ := get(t, h.Store, h.Bucket, "pinned.jsonl", &objstore.GetOptions{IfMatch: info.ETag})
	if string(got) != "v1\n" {
		t.Fatalf("IfMatch read %q", got)
	}
	put(t, h, "pinned.jsonl", []byte("v2\n"), nil)
	for _, r := range []*objstore.Range{nil, {Offset: 0, Length: 1}} {
		rc, _, err := h.Store.Get(ctx, h.Bucket, "pinned.jsonl", &objstore.GetOptions{IfMatch: info.ETag, Range: r})
		if rc != nil {
			rc.Close()
		}
		wantCode(t, "Get with a stale IfMatch", err, fault.PreconditionFailed)
	}
	rc, _, err := h.Store.Get(ctx, h.Bucket, "never-there", &objstore.GetOptions{IfMatch: info.ETag})
	if rc != nil {
		rc.Close()
	}
	wantCode(t, "IfMatch on a missing object", err, fault.NotFound)
}

func testOverwrite(t *testing.T, h Harness) {
	a := put(t, h, "over/write.json", []byte(`{"v":"first"}`), &objstore.PutOptions{Metadata: map[string]string{"gen": "1"}})
	b := put(t, h, "over/write.json", []byte(`{"v":"second, longer"}`), &objstore.PutOptions{Metadata: map[string]string{"gen": "2"}})
	if a.ETag == b.ETag {
		t.Fatalf("overwrite kept ETag %s", a.ETag)
	}
	got, info := get(t, h.Store, h.Bucket, "over/write.json", nil)
	if string(got) != `{"v":"second, longer"}` || info.ETag != b.ETag || info.Metadata["gen"] != "2" {
		t.Fatalf("after overwrite got %q etag %s meta %v", got, info.ETag, info.Metadata)
	}
	// Overwriting back to the first content restores the first ETag: ETags
	// depend on content only.
	c := put(t, h, "over/write.json", []byte(`{"v":"first"}`), nil)
	if c.ETag != a.ETag {
		t.Fatalf("same content, ETag %s then %s", a.ETag, c.ETag)
	}
}

// testAtomicOverwrite: readers racing a writer see one whole version, never a
// mix, and the ETag they are given matches the bytes they read.
func testAtomicOverwrite(t *testing.T, h Harness) {
	ctx := context.Background()
	versions := [][]byte{bytes.Repeat([]byte("A"), 128<<10), bytes.Repeat([]byte("B"), 100<<10)}
	put(t, h, "atomic.bin", versions[0], nil)
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	stop := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(stop)
		for i := 1; i <= 10; i++ {
			if _, err := h.Store.Put(ctx, h.Bucket, "atomic.bin", bytes.NewReader(versions[i%2]), nil); err != nil {
				errs <- err
				return
			}
		}
	}()
	for r := 0; r < 3; r++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for reads := 0; ; reads++ {
				select {
				case <-stop:
					if reads > 0 {
						return
					}
				default:
				}
				rc, info, err := h.Store.Get(ctx, h.Bucket, "atomic.bin", nil)
				if err != nil {
					errs <- fmt.Errorf("Get during overwrite: %w", err)
					return
				}
				b, err := io.ReadAll(rc)
				rc.Close()
				if err != nil {
					errs <- err
					return
				}
				if !bytes.Equal(b, versions[0]) && !bytes.Equal(b, versions[1]) {
					errs <- fmt.Errorf("read a torn object of %d bytes", len(b))
					return
				}
				if info.ETag != MD5Hex(b) {
					errs <- fmt.Errorf("Get gave ETag %s for content with MD5 %s", info.ETag, MD5Hex(b))
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// failingReader yields some bytes and then fails, like a client whose
// upload breaks half way.
type failingReader struct{ left int }

func (r *failingReader) Read(p []byte) (int, error) {
	if r.left <= 0 {
		return 0, errors.New("upload broke")
	}
	n := min(len(p), r.left)
	for i := range p[:n] {
		p[i] = 'x'
	}
	r.left -= n
	return n, nil
}

func testFailedPut(t *testing.T, h Harness) {
	ctx := context.Background()
	old := put(t, h, "fail/existing.json", []byte(`{"v":1}`), nil)
	for _, key := range []string{"fail/existing.json", "fail/new.json"} {
		if _, err := h.Store.Put(ctx, h.Bucket, key, &failingReader{left: 64 << 10}, nil); err == nil {
			t.Fatalf("Put %s with a failing body succeeded", key)
		}
	}
	got, info := get(t, h.Store, h.Bucket, "fail/existing.json", nil)
	if string(got) != `{"v":1}` || info.ETag != old.ETag {
		t.Errorf("failed overwrite changed the object: %q %s", got, info.ETag)
	}
	_, err := h.Store.Head(ctx, h.Bucket, "fail/new.json")
	wantCode(t, "Head of a failed new put", err, fault.NotFound)
	if keys := listAll(t, h, objstore.ListOptions{Prefix: "fail/"}); !slices.Equal(keys, []string{"fail/existing.json"}) {
		t.Errorf("after failed puts, listing = %q", keys)
	}
}

func testCopy(t *testing.T, h Harness) {
	ctx := context.Background()
	body := []byte("copy me\n")
	src := put(t, h, "src/a.jsonl", body, &objstore.PutOptions{Metadata: map[string]string{"origin": "src"}})
	srcHead, err := h.Store.Head(ctx, h.Bucket, "src/a.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	if h.Advance != nil {
		h.Advance(time.Hour)
	}
	dst, err := h.Store.Copy(ctx, h.Bucket, "src/a.jsonl", h.Bucket, "dst/b c.jsonl", nil)
	if err != nil {
		t.Fatalf("Copy: %v", err)
	}
	if dst.Key != "dst/b c.jsonl" || dst.Bucket != h.Bucket {
		t.Errorf("Copy info names %s/%s", dst.Bucket, dst.Key)
	}
	if dst.ETag != src.ETag || dst.ETag != MD5Hex(body) {
		t.Errorf("copy ETag %s, want the content's MD5 %s", dst.ETag, MD5Hex(body))
	}
	got, info := get(t, h.Store, h.Bucket, "dst/b c.jsonl", nil)
	if !bytes.Equal(got, body) {
		t.Fatalf("copy content %q", got)
	}
	if info.Metadata["origin"] != "src" {
		t.Errorf("copy metadata %v, want origin=src (S3 MetadataDirective COPY)", info.Metadata)
	}
	dstHead, err := h.Store.Head(ctx, h.Bucket, "dst/b c.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	floor := srcHead.LastModified.Truncate(time.Second)
	if h.Advance != nil {
		floor = srcHead.LastModified.Add(time.Hour).Truncate(time.Second)
	}
	if dstHead.LastModified.Before(floor) {
		t.Errorf("copy LastModified %v, want a fresh time at or after %v (source %v)", dstHead.LastModified, floor, srcHead.LastModified)
	}
	// The source is untouched.
	if again, err := h.Store.Head(ctx, h.Bucket, "src/a.jsonl"); err != nil || !again.LastModified.Equal(srcHead.LastModified) {
		t.Errorf("source after copy: %+v, %v", again, err)
	}
	// Copy over an existing object replaces it.
	put(t, h, "dst/existing", []byte("old"), nil)
	if _, err := h.Store.Copy(ctx, h.Bucket, "src/a.jsonl", h.Bucket, "dst/existing", nil); err != nil {
		t.Fatal(err)
	}
	if got, _ := get(t, h.Store, h.Bucket, "dst/existing", nil); !bytes.Equal(got, body) {
		t.Errorf("copy over existing left %q", got)
	}
}

// testCopyMetadata: metadata given on a copy is what Head and Get of the
// copy report (S3 CopyObject with MetadataDirective REPLACE, see
// https://docs.aws.amazon.com/AmazonS3/latest/API/API_CopyObject.html); the
// source keeps its own. Whether a source key left out survives is not
// pinned: S3 drops it, gofakes3 merges, and callers pass the source's
// metadata when they want to keep it.
func testCopyMetadata(t *testing.T, h Harness) {
	ctx := context.Background()
	body := []byte("replay me\n")
	src := put(t, h, "src/m.jsonl", body, &objstore.PutOptions{ContentType: "application/x-ndjson",
		Metadata: map[string]string{"origin": "src", "elt-content-etag": "old"}})
	meta := map[string]string{"origin": "src", "elt-content-etag": "0123456789abcdef0123456789abcdef-3"}
	dst, err := h.Store.Copy(ctx, h.Bucket, "src/m.jsonl", h.Bucket, "dst/m.jsonl", &objstore.CopyOptions{Metadata: meta})
	if err != nil {
		t.Fatalf("Copy with metadata: %v", err)
	}
	if dst.ETag != src.ETag || dst.Size != int64(len(body)) {
		t.Errorf("copy info %+v, want ETag %s size %d", dst, src.ETag, len(body))
	}
	check := func(how string, got map[string]string) {
		t.Helper()
		for k, v := range meta {
			if got[k] != v {
				t.Errorf("%s of the copy: metadata %v, want %s=%s", how, got, k, v)
			}
		}
	}
	check("Copy result", dst.Metadata)
	head, err := h.Store.Head(ctx, h.Bucket, "dst/m.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	check("Head", head.Metadata)
	got, info := get(t, h.Store, h.Bucket, "dst/m.jsonl", nil)
	if !bytes.Equal(got, body) {
		t.Fatalf("copy content %q", got)
	}
	check("Get", info.Metadata)
	if sh, err := h.Store.Head(ctx, h.Bucket, "src/m.jsonl"); err != nil || sh.Metadata["elt-content-etag"] != "old" {
		t.Errorf("source after copy: %+v, %v (want its own metadata)", sh, err)
	}
	// Upper-case keys come back lower-case, as S3 reports them.
	if _, err := h.Store.Copy(ctx, h.Bucket, "src/m.jsonl", h.Bucket, "dst/upper.jsonl",
		&objstore.CopyOptions{Metadata: map[string]string{"Elt-Content-Etag": "abc"}}); err != nil {
		t.Fatal(err)
	}
	if up, err := h.Store.Head(ctx, h.Bucket, "dst/upper.jsonl"); err != nil || up.Metadata["elt-content-etag"] != "abc" {
		t.Errorf("copy with an upper-case metadata key: %+v, %v", up, err)
	}
	// Nil Metadata keeps the source's.
	if _, err := h.Store.Copy(ctx, h.Bucket, "src/m.jsonl", h.Bucket, "dst/same.jsonl", &objstore.CopyOptions{}); err != nil {
		t.Fatal(err)
	}
	if same, err := h.Store.Head(ctx, h.Bucket, "dst/same.jsonl"); err != nil || same.Metadata["elt-content-etag"] != "old" || same.Metadata["origin"] != "src" {
		t.Errorf("copy without metadata: %+v, %v (want the source's)", same, err)
	}
}

// testCopyIfMatch: a copy pinned to the source's ETag succeeds while it
// holds and fails with PreconditionFailed (nothing written) once the source
// changed (S3 x-amz-copy-source-if-match), with and without new metadata.
func testCopyIfMatch(t *testing.T, h Harness) {
	ctx := context.Background()
	v1 := put(t, h, "src/v.jsonl", []byte("version 1\n"), nil)
	for _, meta := range []map[string]string{nil, {"elt-content-etag": v1.ETag}} {
		name := fmt.Sprintf("metadata=%v", meta != nil)
		dstKey := fmt.Sprintf("dst/v-%v.jsonl", meta != nil)
		if _, err := h.Store.Copy(ctx, h.Bucket, "src/v.jsonl", h.Bucket, dstKey,
			&objstore.CopyOptions{IfMatch: v1.ETag, Metadata: meta}); err != nil {
			t.Fatalf("%s: Copy pinned to the current ETag: %v", name, err)
		}
		if got, _ := get(t, h.Store, h.Bucket, dstKey, nil); string(got) != "version 1\n" {
			t.Errorf("%s: copy content %q", name, got)
		}
		// A quoted ETag is accepted as well.
		if _, err := h.Store.Copy(ctx, h.Bucket, "src/v.jsonl", h.Bucket, dstKey,
			&objstore.CopyOptions{IfMatch: `"` + v1.ETag + `"`, Metadata: meta}); err != nil {
			t.Fatalf("%s: Copy pinned to the quoted current ETag: %v", name, err)
		}
	}
	put(t, h, "src/v.jsonl", []byte("version 2\n"), nil)
	for _, meta := range []map[string]string{nil, {"elt-content-etag": v1.ETag}} {
		name := fmt.Sprintf("metadata=%v", meta != nil)
		_, err := h.Store.Copy(ctx, h.Bucket, "src/v.jsonl", h.Bucket, "dst/stale.jsonl",
			&objstore.CopyOptions{IfMatch: v1.ETag, Metadata: meta})
		if !fault.Is(err, fault.PreconditionFailed) {
			t.Fatalf("%s: Copy pinned to a replaced ETag: %v, want PreconditionFailed", name, err)
		}
		if _, err := h.Store.Head(ctx, h.Bucket, "dst/stale.jsonl"); !fault.Is(err, fault.NotFound) {
			t.Fatalf("%s: a refused copy left an object: %v", name, err)
		}
	}
	if _, err := h.Store.Copy(ctx, h.Bucket, "src/missing", h.Bucket, "dst/x", &objstore.CopyOptions{IfMatch: v1.ETag}); !fault.Is(err, fault.NotFound) {
		t.Fatalf("Copy of a missing source pinned to an ETag: %v, want NotFound", err)
	}
}

func testCopyOtherBucket(t *testing.T, h Harness) {
	if h.OtherBucket == "" {
		t.Skip("harness has no second bucket")
	}
	body := []byte("across buckets")
	put(t, h, "x/y.txt", body, nil)
	info, err := h.Store.Copy(context.Background(), h.Bucket, "x/y.txt", h.OtherBucket, "z/y.txt", nil)
	if err != nil {
		t.Fatalf("Copy: %v", err)
	}
	if info.Bucket != h.OtherBucket || info.ETag != MD5Hex(body) {
		t.Errorf("copy info %+v", info)
	}
	if got, _ := get(t, h.Store, h.OtherBucket, "z/y.txt", nil); !bytes.Equal(got, body) {
		t.Errorf("copied content %q", got)
	}
}

func testDelete(t *testing.T, h Harness) {
	ctx := context.Background()
	put(t, h, "del/one", []byte("1"), nil)
	put(t, h, "del/two", []byte("2"), nil)
	for i := 0; i < 2; i++ { // deleting twice is not an error
		if err := h.Store.Delete(ctx, h.Bucket, "del/one"); err != nil {
			t.Fatalf("Delete #%d: %v", i+1, err)
		}
	}
	if err := h.Store.Delete(ctx, h.Bucket, "never/existed"); err != nil {
		t.Fatalf("Delete of a missing key: %v", err)
	}
	_, err := h.Store.Head(ctx, h.Bucket, "del/one")
	wantCode(t, "Head after Delete", err, fault.NotFound)
	if got := listAll(t, h, objstore.ListOptions{}); !slices.Equal(got, []string{"del/two"}) {
		t.Errorf("after delete, listing = %q", got)
	}
	// A deleted "directory" key can be reused as an object name.
	if err := h.Store.Delete(ctx, h.Bucket, "del/two"); err != nil {
		t.Fatal(err)
	}
	put(t, h, "del", []byte("now a file"), nil)
	if got := listAll(t, h, objstore.ListOptions{}); !slices.Equal(got, []string{"del"}) {
		t.Errorf("after reuse, listing = %q", got)
	}
}

// Keys is the key set the listing tests use: spaces, '=', '%', '+',
// unicode, deep paths, and neighbours that sort around '/' ('-' and '.'
// sort before '/', '0' after it), which a naive directory walk gets wrong.
var Keys = []string{
	"bronze/dt=2025-01-01/part 1.jsonl",
	"bronze/dt=2025-01-01/part%201.jsonl",
	"bronze/dt=2025-01-01/part+1.jsonl",
	"bronze/dt=2025-01-02/a.json",
	"deep/a/b/c/d/e/f/g/h.json",
	"p/a-c",
	"p/a.b",
	"p/a/b",
	"p/a0",
	"p/a~",
	"top.txt",
	"unicode/café.json",
	"unicode/日本/東京.jsonl",
	"unicode/Ωmega",
	"z",
}

func putKeys(t *testing.T, h Harness) {
	t.Helper()
	for _, k := range Keys {
		put(t, h, k, []byte("body of "+k), nil)
	}
}

func sortedKeys() []string {
	ks := slices.Clone(Keys)
	sort.Strings(ks)
	return ks
}

// listAll follows continuation tokens to the end and checks each page.
func listAll(t *testing.T, h Harness, opts objstore.ListOptions) []string {
	t.Helper()
	var keys []string
	for page := 0; ; page++ {
		if page > 10000 {
			t.Fatalf("listing did not end")
		}
		p, err := h.Store.List(context.Background(), h.Bucket, opts)
		if err != nil {
			t.Fatalf("List %+v: %v", opts, err)
		}
		if opts.MaxKeys > 0 && len(p.Objects) > opts.MaxKeys {
			t.Fatalf("page of %d objects, MaxKeys %d", len(p.Objects), opts.MaxKeys)
		}
		for _, o := range p.Objects {
			keys = append(keys, o.Key)
		}
		if p.NextContinuationToken == "" {
			return keys
		}
		if len(p.Objects) == 0 {
			t.Fatalf("empty page with a continuation token")
		}
		opts.ContinuationToken = p.NextContinuationToken
	}
}

func testListOrder(t *testing.T, h Harness) {
	if got := listAll(t, h, objstore.ListOptions{}); len(got) != 0 {
		t.Fatalf("fresh bucket lists %q", got)
	}
	putKeys(t, h)
	got := listAll(t, h, objstore.ListOptions{})
	if want := sortedKeys(); !slices.Equal(got, want) {
		t.Fatalf("List order:\n got %q\nwant %q", got, want)
	}
}

func testListPrefix(t *testing.T, h Harness) {
	putKeys(t, h)
	cases := []struct {
		prefix string
		want   []string
	}{
		{"p/a", []string{"p/a-c", "p/a.b", "p/a/b", "p/a0", "p/a~"}},
		{"p/a/", []string{"p/a/b"}},
		{"p/a/b", []string{"p/a/b"}},
		{"bronze/dt=2025-01-01/", []string{"bronze/dt=2025-01-01/part 1.jsonl", "bronze/dt=2025-01-01/part%201.jsonl", "bronze/dt=2025-01-01/part+1.jsonl"}},
		{"bronze/dt=2025-01-0", []string{"bronze/dt=2025-01-01/part 1.jsonl", "bronze/dt=2025-01-01/part%201.jsonl", "bronze/dt=2025-01-01/part+1.jsonl", "bronze/dt=2025-01-02/a.json"}},
		{"unicode/日", []string{"unicode/日本/東京.jsonl"}},
		{"deep/a/b/c/d/e/f/g/", []string{"deep/a/b/c/d/e/f/g/h.json"}},
		{"z", []string{"z"}},
		{"nothing-here/", nil},
		{"top.txt/", nil},
	}
	for _, tc := range cases {
		t.Run(tc.prefix, func(t *testing.T) {
			got := listAll(t, h, objstore.ListOptions{Prefix: tc.prefix})
			if !slices.Equal(got, tc.want) {
				t.Errorf("prefix %q:\n got %q\nwant %q", tc.prefix, got, tc.want)
			}
		})
	}
}

func after(keys []string, k string) []string {
	var out []string
	for _, x := range keys {
		if x > k {
			out = append(out, x)
		}
	}
	return out
}

func testListStartAfter(t *testing.T, h Harness) {
	putKeys(t, h)
	all := sortedKeys()
	for _, sa := range []string{"p/a-c", "p/a.b", "p/a/", "p/a/b", "p/a", "bronze/", "unicode/café.json", "a", "zz", "p/a0"} {
		t.Run(sa, func(t *testing.T) {
			got := listAll(t, h, objstore.ListOptions{StartAfter: sa})
			if want := after(all, sa); !slices.Equal(got, want) {
				t.Errorf("StartAfter %q:\n got %q\nwant %q", sa, got, want)
			}
		})
	}
	got := listAll(t, h, objstore.ListOptions{Prefix: "p/", StartAfter: "p/a.b"})
	if want := []string{"p/a/b", "p/a0", "p/a~"}; !slices.Equal(got, want) {
		t.Errorf("prefix p/ after p/a.b: got %q want %q", got, want)
	}
}

func testListPagination(t *testing.T, h Harness) {
	putKeys(t, h)
	all := sortedKeys()
	for _, max := range []int{1, 2, 3, 7, len(all) - 1, len(all), len(all) + 1} {
		t.Run(fmt.Sprintf("MaxKeys=%d", max), func(t *testing.T) {
			got := listAll(t, h, objstore.ListOptions{MaxKeys: max})
			if !slices.Equal(got, all) {
				t.Errorf("pages joined:\n got %q\nwant %q", got, all)
			}
			got = listAll(t, h, objstore.ListOptions{MaxKeys: max, Prefix: "p/a", StartAfter: "p/a-c"})
			if want := []string{"p/a.b", "p/a/b", "p/a0", "p/a~"}; !slices.Equal(got, want) {
				t.Errorf("prefix+StartAfter pages: got %q want %q", got, want)
			}
		})
	}
	// The last page has no token; an exact fit does not leave an empty extra page.
	p, err := h.Store.List(context.Background(), h.Bucket, objstore.ListOptions{MaxKeys: len(all)})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Objects) != len(all) || p.NextContinuationToken != "" {
		t.Errorf("exact fit: %d objects, token %q", len(p.Objects), p.NextContinuationToken)
	}
	// Keys added behind the cursor are not seen; keys added ahead are.
	p, err = h.Store.List(context.Background(), h.Bucket, objstore.ListOptions{MaxKeys: 3})
	if err != nil {
		t.Fatal(err)
	}
	put(t, h, "0-before-cursor", []byte("x"), nil)
	put(t, h, "zz-after-cursor", []byte("x"), nil)
	rest := listAll(t, h, objstore.ListOptions{MaxKeys: 3, ContinuationToken: p.NextContinuationToken})
	if slices.Contains(rest, "0-before-cursor") || !slices.Contains(rest, "zz-after-cursor") {
		t.Errorf("resumed listing: %q", rest)
	}
}

func testListInfo(t *testing.T, h Harness) {
	ctx := context.Background()
	bodies := map[string][]byte{"info/a": []byte("aaaa"), "info/b": randomBytes(2, 4097), "info/c": {}}
	for k, b := range bodies {
		put(t, h, k, b, nil)
	}
	p, err := h.Store.List(ctx, h.Bucket, objstore.ListOptions{Prefix: "info/"})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Objects) != len(bodies) {
		t.Fatalf("listed %d objects, want %d", len(p.Objects), len(bodies))
	}
	for _, o := range p.Objects {
		b := bodies[o.Key]
		if o.ETag != MD5Hex(b) || o.Size != int64(len(b)) || o.Bucket != h.Bucket {
			t.Errorf("listed %+v, want ETag %s size %d", o, MD5Hex(b), len(b))
		}
		head, err := h.Store.Head(ctx, h.Bucket, o.Key)
		if err != nil {
			t.Fatal(err)
		}
		// S3 reports LastModified in seconds in HEAD and milliseconds in LIST.
		if !head.LastModified.Truncate(time.Second).Equal(o.LastModified.Truncate(time.Second)) {
			t.Errorf("%s LastModified: list %v, head %v", o.Key, o.LastModified, head.LastModified)
		}
	}
}

func testParallelPuts(t *testing.T, h Harness) {
	ctx := context.Background()
	const writers, perWriter = 8, 8
	var wg sync.WaitGroup
	errs := make(chan error, writers*perWriter)
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < perWriter; i++ {
				key := fmt.Sprintf("par/w%d/obj-%02d.json", w, i)
				body := []byte(strings.Repeat(key, 1+i))
				info, err := h.Store.Put(ctx, h.Bucket, key, bytes.NewReader(body), nil)
				if err != nil {
					errs <- err
					continue
				}
				if info.ETag != MD5Hex(body) {
					errs <- fmt.Errorf("%s: ETag %s want %s", key, info.ETag, MD5Hex(body))
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	got := listAll(t, h, objstore.ListOptions{Prefix: "par/", MaxKeys: 5})
	if len(got) != writers*perWriter {
		t.Fatalf("listed %d objects after parallel puts, want %d", len(got), writers*perWriter)
	}
	for _, k := range got {
		i := strings.LastIndex(k, "obj-")
		var n int
		fmt.Sscanf(k[i:], "obj-%02d.json", &n)
		want := []byte(strings.Repeat(k, 1+n))
		if b, info := get(t, h.Store, h.Bucket, k, nil); !bytes.Equal(b, want) || info.ETag != MD5Hex(want) {
			t.Errorf("%s: wrong content or ETag after parallel puts", k)
		}
	}
}
