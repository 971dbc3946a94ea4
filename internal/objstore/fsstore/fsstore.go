// Package fsstore is the embedded object store: a directory tree
// <root>/<bucket>/<key> that behaves like S3 for what the pipeline uses.
//
//   - Writes are atomic: the body goes to a temp file in the target's own
//     directory, is fsynced, stamped with the store clock's time and renamed
//     over the target, so a reader sees the old object or the new one.
//   - ETag is the hex MD5 of the content (S3's single-part ETag), computed
//     while writing and kept with the user metadata in a sidecar file under
//     <root>/.elt-meta/<bucket>/<key>. A sidecar is trusted only while the
//     data file's size, mtime, inode and ctime match the ones it recorded, so a file
//     dropped in or edited by hand gets its ETag computed (once, then cached).
//   - LastModified is the file's mtime.
//   - Temp files (".elt-tmp-*") and the sidecar tree are never listed.
//
// Because keys map to paths, a key cannot be both an object and a "folder"
// of other objects ("a" and "a/b"); such a Put is fault.InvalidArgument.
// Keys with empty, "." or ".." segments, a leading or trailing "/", or a NUL
// are refused as well (S3 would accept some of them; the pipeline never makes them).
package fsstore

import (
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/serverless-elt/elt/internal/fault"
	"github.com/serverless-elt/elt/internal/objstore"
)

const (
	// tmpPrefix marks in-progress writes; such files are never objects.
	tmpPrefix = ".elt-tmp-"
	// metaDir holds sidecar metadata; bucket names cannot start with '.',
	// so it never collides with a bucket.
	metaDir = ".elt-meta"
	// maxKeyLen is S3's key length limit.
	maxKeyLen = 1024
	// defaultMaxKeys is S3's page size.
	defaultMaxKeys = 1000
)

// Options configure a Store.
type Options struct {
	// Now is the clock that stamps written objects (their LastModified).
	// Defaults to time.Now.
	Now func() time.Time
}

// Store is a directory-tree object store. It is safe for concurrent use,
// also by several processes sharing the root (all coordination is through
// atomic renames).
type Store struct {
	root string
	now  func() time.Time
}

var _ objstore.Store = (*Store)(nil)

// New returns a store rooted at dir, creating it if needed.
func New(dir string, opts Options) (*Store, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create object store root %s: %w", dir, err)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("object store root %s: %w", dir, err)
	}
	s := &Store{root: abs, now: opts.Now}
	if s.now == nil {
		s.now = time.Now
	}
	return s, nil
}

// Root is the directory the store lives in.
func (s *Store) Root() string { return s.root }

// Path is the file that holds bucket/key (whether or not it exists). It
// lets tools and tests drop files in "by hand".
func (s *Store) Path(bucket, key string) (string, error) {
	if err := checkBucket(bucket); err != nil {
		return "", fault.New(fault.InvalidArgument, "fsstore.Path", err)
	}
	if err := checkKey(key); err != nil {
		return "", fault.New(fault.InvalidArgument, "fsstore.Path", err)
	}
	return s.dataPath(bucket, key), nil
}

// CreateBucket makes an empty bucket directory (Put creates buckets on
// demand; this is for listing an empty bucket).
func (s *Store) CreateBucket(bucket string) error {
	if err := checkBucket(bucket); err != nil {
		return fault.New(fault.InvalidArgument, "fsstore.CreateBucket", err)
	}
	if err := os.MkdirAll(filepath.Join(s.root, bucket), 0o755); err != nil {
		return fault.New(fault.Unknown, "fsstore.CreateBucket "+bucket, err)
	}
	return nil
}

func (s *Store) dataPath(bucket, key string) string {
	return filepath.Join(s.root, bucket, filepath.FromSlash(key))
}

func (s *Store) metaPath(bucket, key string) string {
	return filepath.Join(s.root, metaDir, bucket, filepath.FromSlash(key))
}

func checkBucket(bucket string) error {
	switch {
	case bucket == "":
		return errors.New("empty bucket name")
	case strings.ContainsAny(bucket, "/\\\x00"):
		return fmt.Errorf("bucket name %q contains a path separator", bucket)
	case strings.HasPrefix(bucket, "."):
		return fmt.Errorf("bucket name %q starts with '.'", bucket)
	}
	return nil
}

func checkKey(key string) error {
	switch {
	case key == "":
		return errors.New("empty key")
	case len(key) > maxKeyLen:
		return fmt.Errorf("key of %d bytes exceeds %d", len(key), maxKeyLen)
	case !utf8.ValidString(key):
		return fmt.Errorf("key %q is not UTF-8", key)
	case strings.ContainsRune(key, 0):
		return fmt.Errorf("key %q contains NUL", key)
	case strings.HasPrefix(key, "/"):
		return fmt.Errorf("key %q is absolute", key)
	case strings.HasSuffix(key, "/"):
		return fmt.Errorf("key %q ends with '/' (folder markers are not objects here)", key)
	}
	for _, seg := range strings.Split(key, "/") {
		switch {
		case seg == "":
			return fmt.Errorf("key %q has an empty path segment", key)
		case seg == "." || seg == "..":
			return fmt.Errorf("key %q has a %q segment", key, seg)
		case strings.HasPrefix(seg, tmpPrefix):
			return fmt.Errorf("key %q uses the reserved prefix %s", key, tmpPrefix)
		case len(seg) > 255:
			return fmt.Errorf("key %q has a segment longer than 255 bytes", key)
		}
	}
	return nil
}

func checkArgs(op, bucket, key string) error {
	if err := checkBucket(bucket); err != nil {
		return fault.New(fault.InvalidArgument, op, err)
	}
	if err := checkKey(key); err != nil {
		return fault.New(fault.InvalidArgument, op, err)
	}
	return nil
}

// classify maps a file-system error to a fault code.
func classify(op string, err error) error {
	if err == nil {
		return nil
	}
	var fe *fault.Error
	if errors.As(err, &fe) {
		return err
	}
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return fault.New(fault.Canceled, op, err)
	case errors.Is(err, fs.ErrNotExist), errors.Is(err, syscall.ENOTDIR), errors.Is(err, syscall.EISDIR):
		return fault.New(fault.NotFound, op, err)
	case errors.Is(err, syscall.ENOSPC), errors.Is(err, syscall.EMFILE), errors.Is(err, syscall.ENFILE), errors.Is(err, syscall.EINTR), errors.Is(err, syscall.EAGAIN):
		return fault.New(fault.Transient, op, err)
	}
	return fault.New(fault.Unknown, op, err)
}

// sidecar is what the metadata file records about one object.
type sidecar struct {
	ETag        string            `json:"etag"`
	Size        int64             `json:"size"`
	MtimeNanos  int64             `json:"mtime_ns"`
	Inode       uint64            `json:"inode"`
	CtimeNanos  int64             `json:"ctime_ns"`
	ContentType string            `json:"content_type,omitempty"`
	Metadata    map[string]string `json:"metadata,omitempty"`
}

// identity is what tells one version of a file from another beyond size and
// mtime (both of which a user can reproduce): the inode, which a replacement
// may reuse, and the change time, which nobody can set and which moves on
// every write, chmod, utime or rename.
func identity(fi fs.FileInfo) (ino uint64, ctimeNanos int64) {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return st.Ino, st.Ctim.Nano()
	}
	return 0, 0
}

func newSidecar(etag string, fi fs.FileInfo) *sidecar {
	ino, ctime := identity(fi)
	return &sidecar{ETag: etag, Size: fi.Size(), MtimeNanos: fi.ModTime().UnixNano(), Inode: ino, CtimeNanos: ctime}
}

func (sc *sidecar) matches(fi fs.FileInfo) bool {
	ino, ctime := identity(fi)
	return sc.Size == fi.Size() && sc.MtimeNanos == fi.ModTime().UnixNano() && sc.Inode == ino && sc.CtimeNanos == ctime
}

func (s *Store) readSidecar(bucket, key string) (*sidecar, bool) {
	b, err := os.ReadFile(s.metaPath(bucket, key))
	if err != nil {
		return nil, false
	}
	var sc sidecar
	if err := json.Unmarshal(b, &sc); err != nil {
		return nil, false
	}
	return &sc, true
}

// writeSidecar replaces the sidecar atomically. When durable is false the
// write is a cache fill (an ETag we can compute again) and skips fsync.
func (s *Store) writeSidecar(bucket, key string, sc *sidecar, durable bool) error {
	b, err := json.Marshal(sc)
	if err != nil {
		return err
	}
	return writeFileAtomic(s.metaPath(bucket, key), func(f *os.File) error {
		_, err := f.Write(b)
		return err
	}, time.Time{}, durable)
}

// writeFileAtomic writes path through a temp file in the same directory and
// renames it into place. A zero mtime leaves the file system's time.
func writeFileAtomic(path string, write func(*os.File) error, mtime time.Time, durable bool) error {
	dir := filepath.Dir(path)
	var f *os.File
	var err error
	// A concurrent Delete may prune the directory between MkdirAll and
	// CreateTemp; try again a few times.
	for attempt := 0; attempt < 5; attempt++ {
		if err = os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		f, err = os.CreateTemp(dir, tmpPrefix+"*")
		if err == nil || !errors.Is(err, fs.ErrNotExist) {
			break
		}
	}
	if err != nil {
		return err
	}
	tmp := f.Name()
	ok := false
	defer func() {
		if !ok {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if err := write(f); err != nil {
		return err
	}
	if durable {
		if err := f.Sync(); err != nil {
			return err
		}
	}
	if err := f.Close(); err != nil {
		return err
	}
	if !mtime.IsZero() {
		if err := os.Chtimes(tmp, mtime, mtime); err != nil {
			return err
		}
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	ok = true
	if durable {
		if d, err := os.Open(dir); err == nil {
			d.Sync()
			d.Close()
		}
	}
	return nil
}

// info builds the object info of a data file, taking the ETag from the
// sidecar when it still describes this file and computing it otherwise. ra
// reads the stat'ed file's content; when nil (a listing, which only stats)
// the file is opened if the ETag must be computed.
func (s *Store) info(bucket, key string, fi fs.FileInfo, ra io.ReaderAt) (objstore.ObjectInfo, error) {
	if sc, ok := s.readSidecar(bucket, key); ok && sc.matches(fi) {
		return objstore.ObjectInfo{Bucket: bucket, Key: key, Size: fi.Size(), LastModified: fi.ModTime(), ETag: sc.ETag, Metadata: sc.Metadata}, nil
	}
	if ra == nil {
		f, err := os.Open(s.dataPath(bucket, key))
		if err != nil {
			return objstore.ObjectInfo{}, err
		}
		defer f.Close()
		if fi, err = f.Stat(); err != nil {
			return objstore.ObjectInfo{}, err
		}
		ra = f
	}
	oi := objstore.ObjectInfo{Bucket: bucket, Key: key, Size: fi.Size(), LastModified: fi.ModTime()}
	// No sidecar, or one for another version of the file: the file was put
	// there by hand (or a Put crashed between rename and sidecar). Compute
	// the ETag from the bytes and cache it.
	h := md5.New()
	if _, err := io.Copy(h, io.NewSectionReader(ra, 0, fi.Size())); err != nil {
		return oi, fmt.Errorf("hash %s/%s: %w", bucket, key, err)
	}
	oi.ETag = hex.EncodeToString(h.Sum(nil))
	// A failed cache write only costs a recomputation next time.
	_ = s.writeSidecar(bucket, key, newSidecar(oi.ETag, fi), false)
	return oi, nil
}

// open opens the data file of an object and returns it with its info.
func (s *Store) open(op, bucket, key string) (*os.File, objstore.ObjectInfo, error) {
	f, err := os.Open(s.dataPath(bucket, key))
	if err != nil {
		return nil, objstore.ObjectInfo{}, classify(op, err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, objstore.ObjectInfo{}, classify(op, err)
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, objstore.ObjectInfo{}, fault.New(fault.NotFound, op, errors.New("not an object"))
	}
	oi, err := s.info(bucket, key, fi, f)
	if err != nil {
		f.Close()
		return nil, objstore.ObjectInfo{}, classify(op, err)
	}
	return f, oi, nil
}

// Get opens an object or a range of it. The ETag returned is the one of the
// bytes read, even if the object is replaced while reading.
func (s *Store) Get(ctx context.Context, bucket, key string, opts *objstore.GetOptions) (io.ReadCloser, objstore.ObjectInfo, error) {
	op := "fsstore.Get " + bucket + "/" + key
	if err := checkArgs(op, bucket, key); err != nil {
		return nil, objstore.ObjectInfo{}, err
	}
	if err := ctx.Err(); err != nil {
		return nil, objstore.ObjectInfo{}, classify(op, err)
	}
	f, oi, err := s.open(op, bucket, key)
	if err != nil {
		return nil, objstore.ObjectInfo{}, err
	}
	if opts == nil {
		opts = &objstore.GetOptions{}
	}
	if opts.IfMatch != "" && strings.Trim(opts.IfMatch, `"`) != oi.ETag {
		f.Close()
		return nil, objstore.ObjectInfo{}, fault.New(fault.PreconditionFailed, op, fmt.Errorf("ETag is %s, not %s", oi.ETag, opts.IfMatch))
	}
	if opts.Range == nil {
		return f, oi, nil
	}
	r := *opts.Range
	if r.Offset < 0 || r.Offset >= oi.Size {
		f.Close()
		return nil, objstore.ObjectInfo{}, fault.New(fault.InvalidArgument, op, fmt.Errorf("range offset %d outside object of %d bytes", r.Offset, oi.Size))
	}
	n := oi.Size - r.Offset
	if r.Length >= 0 && r.Length < n {
		n = r.Length
	}
	return &sectionCloser{SectionReader: io.NewSectionReader(f, r.Offset, n), f: f}, oi, nil
}

type sectionCloser struct {
	*io.SectionReader
	f *os.File
}

func (s *sectionCloser) Close() error { return s.f.Close() }

// Head returns an object's info.
func (s *Store) Head(ctx context.Context, bucket, key string) (objstore.ObjectInfo, error) {
	op := "fsstore.Head " + bucket + "/" + key
	if err := checkArgs(op, bucket, key); err != nil {
		return objstore.ObjectInfo{}, err
	}
	if err := ctx.Err(); err != nil {
		return objstore.ObjectInfo{}, classify(op, err)
	}
	f, oi, err := s.open(op, bucket, key)
	if err != nil {
		return objstore.ObjectInfo{}, err
	}
	f.Close()
	return oi, nil
}

// Put writes an object atomically.
func (s *Store) Put(ctx context.Context, bucket, key string, body io.Reader, opts *objstore.PutOptions) (objstore.ObjectInfo, error) {
	op := "fsstore.Put " + bucket + "/" + key
	if err := checkArgs(op, bucket, key); err != nil {
		return objstore.ObjectInfo{}, err
	}
	if opts == nil {
		opts = &objstore.PutOptions{}
	}
	path := s.dataPath(bucket, key)
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return objstore.ObjectInfo{}, fault.New(fault.InvalidArgument, op, fmt.Errorf("key %q is a prefix of other objects; the directory store cannot hold both", key))
	}
	h := md5.New()
	mtime := s.now()
	err := writeFileAtomic(path, func(f *os.File) error {
		_, err := io.Copy(io.MultiWriter(f, h), ctxReader{ctx, body})
		return err
	}, mtime, true)
	if err != nil {
		if errors.Is(err, syscall.ENOTDIR) || errors.Is(err, fs.ErrExist) || errors.Is(err, syscall.EISDIR) || errors.Is(err, syscall.ENOTEMPTY) {
			return objstore.ObjectInfo{}, fault.New(fault.InvalidArgument, op, fmt.Errorf("key %q runs through an existing object: %w", key, err))
		}
		return objstore.ObjectInfo{}, classify(op, err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		return objstore.ObjectInfo{}, classify(op, err)
	}
	sc := newSidecar(hex.EncodeToString(h.Sum(nil)), fi)
	sc.ContentType = opts.ContentType
	sc.Metadata = lowerKeys(opts.Metadata)
	// If we crash before this, the next reader finds no matching sidecar
	// and recomputes the ETag; only user metadata would be lost.
	if err := s.writeSidecar(bucket, key, sc, true); err != nil {
		return objstore.ObjectInfo{}, classify(op+" (metadata)", err)
	}
	return objstore.ObjectInfo{Bucket: bucket, Key: key, ETag: sc.ETag, Size: sc.Size, LastModified: fi.ModTime(), Metadata: sc.Metadata}, nil
}

func lowerKeys(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[strings.ToLower(k)] = v
	}
	return out
}

// ctxReader stops a long copy when the context is cancelled.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// Copy copies an object to a new key: content, content type and metadata
// (or opts.Metadata instead); the copy is stamped with the current time.
// The ETag is the content's MD5, so a copy keeps its source's ETag (unlike
// S3 for a multipart source).
func (s *Store) Copy(ctx context.Context, srcBucket, srcKey, dstBucket, dstKey string, opts *objstore.CopyOptions) (objstore.ObjectInfo, error) {
	op := fmt.Sprintf("fsstore.Copy %s/%s -> %s/%s", srcBucket, srcKey, dstBucket, dstKey)
	if err := checkArgs(op, srcBucket, srcKey); err != nil {
		return objstore.ObjectInfo{}, err
	}
	if err := checkArgs(op, dstBucket, dstKey); err != nil {
		return objstore.ObjectInfo{}, err
	}
	if opts == nil {
		opts = &objstore.CopyOptions{}
	}
	f, src, err := s.open(op, srcBucket, srcKey)
	if err != nil {
		return objstore.ObjectInfo{}, err
	}
	defer f.Close()
	if want := strings.Trim(opts.IfMatch, `"`); want != "" && src.ETag != want {
		return objstore.ObjectInfo{}, fault.New(fault.PreconditionFailed, op, fmt.Errorf("source has ETag %s, want %s", src.ETag, want))
	}
	var ct string
	if sc, ok := s.readSidecar(srcBucket, srcKey); ok {
		ct = sc.ContentType
	}
	meta := src.Metadata
	if opts.Metadata != nil {
		meta = opts.Metadata
	}
	return s.Put(ctx, dstBucket, dstKey, io.NewSectionReader(f, 0, src.Size), &objstore.PutOptions{ContentType: ct, Metadata: meta})
}

// Delete removes an object and prunes directories it leaves empty.
func (s *Store) Delete(ctx context.Context, bucket, key string) error {
	op := "fsstore.Delete " + bucket + "/" + key
	if err := checkArgs(op, bucket, key); err != nil {
		return err
	}
	path := s.dataPath(bucket, key)
	if fi, err := os.Lstat(path); err == nil && fi.IsDir() {
		return nil // a "folder", not an object: nothing to delete
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, syscall.ENOTDIR) {
		return classify(op, err)
	}
	os.Remove(s.metaPath(bucket, key))
	s.prune(filepath.Dir(path), filepath.Join(s.root, bucket))
	s.prune(filepath.Dir(s.metaPath(bucket, key)), filepath.Join(s.root, metaDir, bucket))
	return nil
}

// prune removes empty directories from dir up to (not including) stop, so a
// deleted "folder" name can become an object name again.
func (s *Store) prune(dir, stop string) {
	for dir != stop && strings.HasPrefix(dir, stop+string(filepath.Separator)) {
		if err := os.Remove(dir); err != nil {
			return // not empty (or gone): stop
		}
		dir = filepath.Dir(dir)
	}
}

// EncodeToken and DecodeToken make the opaque continuation token: the last
// key returned, base64url-encoded.
func encodeToken(lastKey string) string {
	return base64.RawURLEncoding.EncodeToString([]byte("k1:" + lastKey))
}

func decodeToken(tok string) (string, error) {
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil || !strings.HasPrefix(string(b), "k1:") {
		return "", fmt.Errorf("malformed continuation token %q", tok)
	}
	return string(b[3:]), nil
}

// List returns one page of objects in lexicographic key order.
func (s *Store) List(ctx context.Context, bucket string, opts objstore.ListOptions) (objstore.ListPage, error) {
	op := "fsstore.List " + bucket + "/" + opts.Prefix
	if err := checkBucket(bucket); err != nil {
		return objstore.ListPage{}, fault.New(fault.InvalidArgument, op, err)
	}
	max := opts.MaxKeys
	switch {
	case max < 0:
		return objstore.ListPage{}, fault.New(fault.InvalidArgument, op, fmt.Errorf("MaxKeys %d", max))
	case max == 0 || max > defaultMaxKeys:
		max = defaultMaxKeys
	}
	w := &walker{s: s, ctx: ctx, bucket: bucket, prefix: opts.Prefix, after: opts.StartAfter, limit: max + 1}
	if opts.ContinuationToken != "" {
		k, err := decodeToken(opts.ContinuationToken)
		if err != nil {
			return objstore.ListPage{}, fault.New(fault.InvalidArgument, op, err)
		}
		if k > w.after {
			w.after = k
		}
	}
	// Start at the deepest directory the prefix pins down.
	startKey := ""
	if i := strings.LastIndex(opts.Prefix, "/"); i >= 0 {
		startKey = opts.Prefix[:i+1]
	}
	bucketDir := filepath.Join(s.root, bucket)
	if err := w.dir(filepath.Join(bucketDir, filepath.FromSlash(startKey)), startKey); err != nil && !errors.Is(err, errPageFull) {
		return objstore.ListPage{}, classify(op, err)
	}
	page := objstore.ListPage{Objects: w.out}
	if len(w.out) > max {
		page.Objects = w.out[:max]
		page.NextContinuationToken = encodeToken(page.Objects[max-1].Key)
	}
	return page, nil
}

var errPageFull = errors.New("page full")

type walker struct {
	s      *Store
	ctx    context.Context
	bucket string
	prefix string
	after  string
	limit  int
	out    []objstore.ObjectInfo
}

type entry struct {
	name  string // file name
	sort  string // name, with "/" appended for directories
	isDir bool
}

// dir visits one directory. Entries are visited in the order of their keys:
// a directory D sorts as "D/" because every key under it starts with that,
// which puts "a-c" and "a.b" before "a/..." and "a0" after, as S3 does.
func (w *walker) dir(fsDir, keyPrefix string) error {
	if err := w.ctx.Err(); err != nil {
		return err
	}
	des, err := os.ReadDir(fsDir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
			return nil
		}
		return err
	}
	entries := make([]entry, 0, len(des))
	for _, de := range des {
		name := de.Name()
		if strings.HasPrefix(name, tmpPrefix) {
			continue
		}
		isDir := de.IsDir()
		if de.Type()&fs.ModeSymlink != 0 {
			fi, err := os.Stat(filepath.Join(fsDir, name))
			if err != nil {
				continue // dangling link
			}
			isDir = fi.IsDir()
		} else if !isDir && !de.Type().IsRegular() {
			continue // sockets, pipes, devices are not objects
		}
		e := entry{name: name, sort: name, isDir: isDir}
		if isDir {
			e.sort += "/"
		}
		entries = append(entries, e)
	}
	slices.SortFunc(entries, func(a, b entry) int { return strings.Compare(a.sort, b.sort) })
	for _, e := range entries {
		if e.isDir {
			p := keyPrefix + e.sort
			if !strings.HasPrefix(p, w.prefix) && !strings.HasPrefix(w.prefix, p) {
				continue
			}
			// Skip subtrees whose every key is <= after.
			if !strings.HasPrefix(w.after, p) && p <= w.after {
				continue
			}
			if err := w.dir(filepath.Join(fsDir, e.name), p); err != nil {
				return err
			}
			continue
		}
		key := keyPrefix + e.name
		if !strings.HasPrefix(key, w.prefix) || key <= w.after {
			continue
		}
		fi, err := os.Stat(filepath.Join(fsDir, e.name))
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				continue // deleted while listing
			}
			return err
		}
		oi, err := w.s.info(w.bucket, key, fi, nil)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return err
		}
		w.out = append(w.out, oi)
		if len(w.out) >= w.limit {
			return errPageFull
		}
	}
	return nil
}
