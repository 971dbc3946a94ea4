package cli

import (
	"bufio"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/serverless-elt/elt/internal/records/fake"
)

const genUsage = `elt gen --type TYPE[,TYPE...]|all --count N --out FILE [--format jsonl|json] [--bad-rate R] [--violations R] [--seed S] [--start YYYY-MM-DD] [--days D]

Writes N realistic events (and a share R of bad inputs of every kind:
malformed JSON, non-object, unknown record type, wrong type, missing field,
oversized line) to FILE (.gz appends gzip). The same seed gives the same
file. Prints the counts as JSON. In --format json (one array) malformed
elements are not generated: a syntax error ends a JSON array, so it would
swallow the elements after it. --violations R plants data-quality
violations in a share R of the good records (a carrier outside the set, a
weight beyond the bound, a repeated shipment_id, an unknown status, a
quantity beyond the bound, a malformed SKU): they pass the record schema, so
they land in silver, and fail the quality gate (elt ge start).`

// genSummary is what gen prints.
type genSummary struct {
	Out    string         `json:"out"`
	Format string         `json:"format"`
	Good   int            `json:"good"`
	Bad    int            `json:"bad"`
	ByKind map[string]int `json:"bad_by_kind"`
	// Violations counts good records carrying a planted quality violation.
	Violations int   `json:"violations,omitempty"`
	Bytes      int64 `json:"bytes"`
}

func runGen(ctx context.Context, env Env, args []string) int {
	fs := flag.NewFlagSet("gen", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	fs.Usage = func() { fmt.Fprintf(env.Stderr, "usage: %s\n\nflags:\n", genUsage); fs.PrintDefaults() }
	typ := fs.String("type", "shipments", "record type(s), comma-separated, or all")
	count := fs.Int("count", 1000, "number of inputs (good + bad)")
	format := fs.String("format", "jsonl", "jsonl or json (one array)")
	badRate := fs.Float64("bad-rate", 0, "share of bad inputs in [0,1]")
	violations := fs.Float64("violations", 0, "share of good records in [0,1] with a planted quality violation")
	seed := fs.Uint64("seed", 1, "random seed")
	start := fs.String("start", "2024-05-01", "first day of event_time (UTC)")
	days := fs.Int("days", 7, "days of event_time")
	out := fs.String("out", "", "output file (required)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return ExitOK
		}
		return ExitUsage
	}
	usageErr := func(msg string) int {
		fmt.Fprintf(env.Stderr, "elt gen: %s\n", msg)
		fs.Usage()
		return ExitUsage
	}
	if fs.NArg() > 0 {
		return usageErr("unexpected argument " + fs.Arg(0))
	}
	if *out == "" {
		return usageErr("--out is required")
	}
	if *count < 0 {
		return usageErr("--count must be >= 0")
	}
	if *format != "jsonl" && *format != "json" {
		return usageErr("--format must be jsonl or json")
	}
	day, err := time.Parse("2006-01-02", *start)
	if err != nil {
		return usageErr("--start: " + err.Error())
	}
	types := strings.Split(*typ, ",")
	if *typ == "all" {
		types = fake.Types
	}
	opts := fake.Options{Types: types, BadRate: *badRate, Start: day, Days: *days, ViolationRate: *violations}
	if *format == "json" {
		opts.Kinds = []fake.BadKind{fake.NotObject, fake.UnknownType, fake.WrongType, fake.MissingField, fake.Oversized}
	}
	g, err := fake.New(*seed, opts)
	if err != nil {
		return usageErr(err.Error())
	}
	sum, err := writeGenerated(ctx, g, *count, *format, *out)
	if err != nil {
		fmt.Fprintf(env.Stderr, "elt gen: %v\n", err)
		return ExitFailure
	}
	b, _ := json.Marshal(sum)
	fmt.Fprintln(env.Stdout, string(b))
	return ExitOK
}

func writeGenerated(ctx context.Context, g *fake.Generator, count int, format, path string) (genSummary, error) {
	sum := genSummary{Out: path, Format: format, ByKind: map[string]int{}}
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return sum, fmt.Errorf("create %s: %w", tmp, err)
	}
	defer os.Remove(tmp)
	defer f.Close()
	w, closeW := compressor(f, path)
	bw := bufio.NewWriterSize(w, 1<<20)
	if format == "json" {
		bw.WriteString("[\n")
	}
	for i := 0; i < count; i++ {
		if i%65536 == 0 && ctx.Err() != nil {
			return sum, ctx.Err()
		}
		line, good, kind := g.Next()
		if good {
			sum.Good++
		} else {
			sum.Bad++
			sum.ByKind[string(kind)]++
		}
		if format == "json" && i > 0 {
			bw.WriteString(",\n")
		}
		bw.Write(line)
		if format == "jsonl" {
			bw.WriteByte('\n')
		}
	}
	if format == "json" {
		bw.WriteString("\n]\n")
	}
	sum.Violations = g.Violations()
	if err := bw.Flush(); err != nil {
		return sum, fmt.Errorf("write %s: %w", path, err)
	}
	if err := closeW(); err != nil {
		return sum, fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return sum, fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return sum, fmt.Errorf("rename %s: %w", path, err)
	}
	if fi, err := os.Stat(path); err == nil {
		sum.Bytes = fi.Size()
	}
	return sum, nil
}

// compressor gzips the output when the file name ends in .gz.
func compressor(w io.Writer, path string) (io.Writer, func() error) {
	if !strings.HasSuffix(path, ".gz") {
		return w, func() error { return nil }
	}
	zw := gzip.NewWriter(w)
	return zw, zw.Close
}
