package cli

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/serverless-elt/elt/internal/bus"
	"github.com/serverless-elt/elt/internal/chunk"
	"github.com/serverless-elt/elt/internal/decode"
	"github.com/serverless-elt/elt/internal/fault"
	"github.com/serverless-elt/elt/internal/objstore"
	"github.com/serverless-elt/elt/internal/records"
	"github.com/serverless-elt/elt/internal/work"
	"github.com/serverless-elt/elt/tasks/transform"
)

const transformUsage = `elt transform --in FILE [--in FILE...] --out DIR [--workers N] [--chunk-bytes N] [--max-line-bytes N]

Converts local JSON / JSON Lines files (.gz too) through the same transform
code as the pipeline: typed Parquet under DIR/silver/<type>/dt=<date>/ and
bad input under DIR/quarantine/. Files are split into chunks like ingest
does, and chunks run on N workers. Prints a summary as JSON; exits 1 if any
chunk failed.`

// TransformSummary is what `elt transform` prints.
type TransformSummary struct {
	Inputs        int                   `json:"inputs"`
	Bytes         int64                 `json:"bytes"`
	Chunks        int                   `json:"chunks"`
	Failed        int                   `json:"failed_chunks"`
	Records       int64                 `json:"records"`
	Rows          int64                 `json:"rows"`
	Duplicates    int64                 `json:"duplicates"`
	Quarantined   int64                 `json:"quarantined"`
	Files         int                   `json:"files"`
	Partitions    []transform.Partition `json:"partitions"`
	Seconds       float64               `json:"seconds"`
	RecordsPerSec float64               `json:"records_per_sec"`
	MBPerSec      float64               `json:"mb_per_sec"`
	// PeakRSSBytes is the process's peak resident set (Linux VmHWM), 0 if unknown.
	PeakRSSBytes int64 `json:"peak_rss_bytes"`
}

type inputsFlag []string

func (f *inputsFlag) String() string     { return strings.Join(*f, ",") }
func (f *inputsFlag) Set(v string) error { *f = append(*f, v); return nil }

func runTransform(ctx context.Context, env Env, args []string) int {
	fs := flag.NewFlagSet("transform", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	fs.Usage = func() { fmt.Fprintf(env.Stderr, "usage: %s\n\nflags:\n", transformUsage); fs.PrintDefaults() }
	var ins inputsFlag
	fs.Var(&ins, "in", "input file (repeatable)")
	out := fs.String("out", "", "output directory (required)")
	workers := fs.Int("workers", runtime.GOMAXPROCS(0), "chunks transformed at once")
	chunkBytes := fs.Int64("chunk-bytes", 32<<20, "bytes per JSON Lines chunk (bounds memory per worker)")
	maxLine := fs.Int("max-line-bytes", chunk.DefaultMaxLineBytes, "longest accepted line / JSON element")
	verbose := fs.Bool("v", false, "log each chunk to stderr")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile to this file (for tuning)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return ExitOK
		}
		return ExitUsage
	}
	ins = append(ins, fs.Args()...) // also accept files as arguments
	if len(ins) == 0 || *out == "" || *workers < 1 || *chunkBytes < 1 {
		fmt.Fprintln(env.Stderr, "elt transform: --in, --out, a positive --workers and --chunk-bytes are required")
		fs.Usage()
		return ExitUsage
	}
	level := slog.LevelWarn
	if *verbose {
		level = slog.LevelInfo
	}
	log := slog.New(slog.NewTextHandler(env.Stderr, &slog.HandlerOptions{Level: level}))
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			fmt.Fprintf(env.Stderr, "elt transform: %v\n", err)
			return ExitFailure
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintf(env.Stderr, "elt transform: %v\n", err)
			return ExitFailure
		}
		defer pprof.StopCPUProfile()
	}
	sum, err := convertFiles(ctx, ins, *out, *workers, *chunkBytes, *maxLine, log)
	if err != nil {
		fmt.Fprintf(env.Stderr, "elt transform: %v\n", err)
		return ExitFailure
	}
	b, _ := json.MarshalIndent(sum, "", "  ")
	fmt.Fprintln(env.Stdout, string(b))
	if sum.Failed > 0 {
		return ExitFailure
	}
	return ExitOK
}

func convertFiles(ctx context.Context, ins []string, outDir string, workers int, chunkBytes int64, maxLine int, log *slog.Logger) (TransformSummary, error) {
	started := time.Now()
	store, err := newDirStore(outDir)
	if err != nil {
		return TransformSummary{}, err
	}
	sum := TransformSummary{Inputs: len(ins), Partitions: []transform.Partition{}}
	var batch transform.Input
	for _, in := range ins {
		abs, err := filepath.Abs(in)
		if err != nil {
			return sum, fmt.Errorf("input %s: %w", in, err)
		}
		oi, err := store.Head(ctx, localBucket, abs)
		if err != nil {
			return sum, err
		}
		sum.Bytes += oi.Size
		format, gz := decode.Detect(abs)
		rngs := []objstore.Range{{Offset: 0, Length: -1}}
		if format == work.JSONL && !gz {
			rngs = chunk.Plan(oi.Size, chunkBytes)
		}
		for i, r := range rngs {
			body, err := work.Item{Bucket: localBucket, Key: abs, ETag: oi.ETag, Size: oi.Size, Range: r, Chunk: i, Chunks: len(rngs),
				Format: format, Gzip: gz, IngestedAt: started.UTC()}.Encode()
			if err != nil {
				return sum, err
			}
			batch.Records = append(batch.Records, transform.Message{MessageID: fmt.Sprintf("%s#%d", abs, i), Body: body})
		}
	}
	sum.Chunks = len(batch.Records)
	h := transform.New(store, discardBus{}, records.Default(), time.Now, log, transform.Config{
		Bucket: outBucket, MaxLineBytes: maxLine, Concurrency: workers, TempDir: store.tmp,
	})
	out, err := h.Handle(ctx, batch)
	if err != nil {
		return sum, err
	}
	sum.Failed = len(out.BatchItemFailures) + out.Obsolete
	sum.Records, sum.Rows, sum.Duplicates, sum.Quarantined, sum.Files = out.Records, out.Rows, out.Duplicates, out.Quarantined, out.Files
	sum.Partitions = out.Partitions
	for i := range sum.Partitions {
		sum.Partitions[i].Files = nil // keys are in the directory; keep the summary short
	}
	sum.Seconds = time.Since(started).Seconds()
	if sum.Seconds > 0 {
		sum.RecordsPerSec = float64(sum.Records) / sum.Seconds
		sum.MBPerSec = float64(sum.Bytes) / 1e6 / sum.Seconds
	}
	sum.PeakRSSBytes = peakRSS()
	return sum, nil
}

// peakRSS reads the process's peak resident set size (Linux only).
func peakRSS() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			var kb int64
			fmt.Sscanf(strings.TrimSpace(v), "%d", &kb)
			return kb << 10
		}
	}
	return 0
}

type discardBus struct{}

func (discardBus) Put(context.Context, []bus.Event) error { return nil }

// Buckets of the local adapter: inputs are read by absolute path from
// localBucket; outputs go under the output directory as outBucket.
const (
	localBucket = "local"
	outBucket   = "out"
)

// dirStore is the objstore.Store of `elt transform`: it reads input files
// where they are (bucket "local", key = absolute path) and writes outputs
// atomically (temp file + rename) under the output directory (bucket
// "out"), so DIR/silver/... is what a user expects. A file's ETag is a hash
// of its path, size and modification time: cheap (no full read) and stable
// while the file is unchanged, so rerunning a conversion overwrites its
// own outputs.
type dirStore struct {
	root string
	tmp  string
}

var _ objstore.Store = (*dirStore)(nil)

func newDirStore(root string) (*dirStore, error) {
	tmp := filepath.Join(root, ".tmp")
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		return nil, fmt.Errorf("create output directory %s: %w", root, err)
	}
	return &dirStore{root: root, tmp: tmp}, nil
}

func (s *dirStore) path(bucket, key string) (string, error) {
	switch bucket {
	case localBucket:
		return key, nil
	case outBucket:
		clean := filepath.Clean(filepath.FromSlash(key))
		if filepath.IsAbs(clean) || strings.HasPrefix(clean, "..") {
			return "", fault.New(fault.InvalidArgument, "dirstore "+key, errors.New("key escapes the output directory"))
		}
		return filepath.Join(s.root, clean), nil
	}
	return "", fault.New(fault.NotFound, "dirstore bucket "+bucket, errors.New("no such bucket"))
}

func (s *dirStore) Head(_ context.Context, bucket, key string) (objstore.ObjectInfo, error) {
	p, err := s.path(bucket, key)
	if err != nil {
		return objstore.ObjectInfo{}, err
	}
	fi, err := os.Stat(p)
	if err != nil {
		code := fault.Unknown
		if errors.Is(err, os.ErrNotExist) {
			code = fault.NotFound
		}
		return objstore.ObjectInfo{}, fault.New(code, "dirstore.Head "+key, err)
	}
	h := sha256.Sum256([]byte(fmt.Sprintf("%s\x00%d\x00%d", p, fi.Size(), fi.ModTime().UnixNano())))
	return objstore.ObjectInfo{Bucket: bucket, Key: key, ETag: hex.EncodeToString(h[:16]), Size: fi.Size(), LastModified: fi.ModTime()}, nil
}

func (s *dirStore) Get(ctx context.Context, bucket, key string, opts *objstore.GetOptions) (io.ReadCloser, objstore.ObjectInfo, error) {
	oi, err := s.Head(ctx, bucket, key)
	if err != nil {
		return nil, oi, err
	}
	if opts != nil && opts.IfMatch != "" && opts.IfMatch != oi.ETag {
		return nil, oi, fault.New(fault.PreconditionFailed, "dirstore.Get "+key, errors.New("file changed"))
	}
	p, _ := s.path(bucket, key)
	f, err := os.Open(p)
	if err != nil {
		return nil, oi, fault.New(fault.Unknown, "dirstore.Get "+key, err)
	}
	if opts == nil || opts.Range == nil {
		return f, oi, nil
	}
	r := *opts.Range
	n := oi.Size - r.Offset
	if r.Length >= 0 && r.Length < n {
		n = r.Length
	}
	return struct {
		io.Reader
		io.Closer
	}{io.NewSectionReader(f, r.Offset, max(n, 0)), f}, oi, nil
}

func (s *dirStore) Put(ctx context.Context, bucket, key string, body io.Reader, _ *objstore.PutOptions) (objstore.ObjectInfo, error) {
	if bucket != outBucket {
		return objstore.ObjectInfo{}, fault.New(fault.InvalidArgument, "dirstore.Put "+key, errors.New("inputs are read-only"))
	}
	p, err := s.path(bucket, key)
	if err != nil {
		return objstore.ObjectInfo{}, err
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return objstore.ObjectInfo{}, fault.New(fault.Unknown, "dirstore.Put "+key, err)
	}
	// A body that is a whole local file (silver builds its output in temp
	// files under s.tmp) is hard-linked into place instead of copied.
	if src, ok := body.(*os.File); ok {
		if off, err := src.Seek(0, io.SeekCurrent); err == nil && off == 0 {
			link := filepath.Join(s.tmp, fmt.Sprintf("link-%d-%s", os.Getpid(), filepath.Base(src.Name())))
			if os.Link(src.Name(), link) == nil {
				if err := os.Rename(link, p); err != nil {
					os.Remove(link)
					return objstore.ObjectInfo{}, fault.New(fault.Unknown, "dirstore.Put "+key, err)
				}
				return s.Head(ctx, bucket, key)
			}
		}
	}
	f, err := os.CreateTemp(s.tmp, "put-*")
	if err != nil {
		return objstore.ObjectInfo{}, fault.New(fault.Unknown, "dirstore.Put "+key, err)
	}
	defer os.Remove(f.Name())
	if _, err := io.Copy(f, body); err != nil {
		f.Close()
		return objstore.ObjectInfo{}, fault.New(fault.Unknown, "dirstore.Put "+key, err)
	}
	if err := f.Close(); err != nil {
		return objstore.ObjectInfo{}, fault.New(fault.Unknown, "dirstore.Put "+key, err)
	}
	if err := os.Rename(f.Name(), p); err != nil {
		return objstore.ObjectInfo{}, fault.New(fault.Unknown, "dirstore.Put "+key, err)
	}
	return s.Head(ctx, bucket, key)
}

func (s *dirStore) Copy(context.Context, string, string, string, string, *objstore.CopyOptions) (objstore.ObjectInfo, error) {
	return objstore.ObjectInfo{}, fault.New(fault.InvalidArgument, "dirstore.Copy", errors.New("not supported"))
}

func (s *dirStore) Delete(_ context.Context, bucket, key string) error {
	p, err := s.path(bucket, key)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fault.New(fault.Unknown, "dirstore.Delete "+key, err)
	}
	return nil
}

func (s *dirStore) List(context.Context, string, objstore.ListOptions) (objstore.ListPage, error) {
	return objstore.ListPage{}, fault.New(fault.InvalidArgument, "dirstore.List", errors.New("not supported"))
}
