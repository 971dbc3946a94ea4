package lambdaentry

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/serverless-elt/elt/internal/awstest"
	"github.com/serverless-elt/elt/internal/objstore"
	"github.com/serverless-elt/elt/internal/objstore/s3store"
)

// s3World is a gofakes3 server on loopback with a bronze and a silver
// bucket, and a Runtime whose AWS config points at it.
type s3World struct {
	srv    *awstest.S3
	cfg    aws.Config
	client *s3.Client
	store  objstore.Store
}

func newS3World(t *testing.T, buckets ...string) *s3World {
	t.Helper()
	ctx := context.Background()
	srv, err := awstest.StartS3()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	for _, b := range buckets {
		if err := srv.CreateBucket(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	cfg, err := awstest.Config(ctx, srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	c := s3store.NewClient(cfg)
	return &s3World{srv: srv, cfg: cfg, client: c, store: s3store.New(c, s3store.Options{})}
}

func (w *s3World) runtime(vars map[string]string) *Runtime {
	return &Runtime{Env: env(vars), AWS: w.cfg, Log: discard(), Now: time.Now}
}

func (w *s3World) put(t *testing.T, bucket, key, body string) {
	t.Helper()
	if _, err := w.store.Put(context.Background(), bucket, key, strings.NewReader(body), &objstore.PutOptions{}); err != nil {
		t.Fatal(err)
	}
}

func (w *s3World) keys(t *testing.T, bucket, prefix string) []string {
	t.Helper()
	out, err := w.client.ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix)})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, o := range out.Contents {
		keys = append(keys, aws.ToString(o.Key))
	}
	return keys
}

// invoke runs a handler on a payload given as JSON text and returns the
// output re-encoded as JSON.
func invoke(t *testing.T, h Handler, payload string) (string, error) {
	t.Helper()
	out, err := h(context.Background(), json.RawMessage(payload))
	if err != nil {
		return "", err
	}
	b, err := json.Marshal(out)
	if err != nil {
		t.Fatal(err)
	}
	return string(b), nil
}

func TestReplayEntry(t *testing.T) {
	w := newS3World(t, "bronze", "silver")
	w.put(t, "bronze", "bronze/shipments/a.jsonl", `{"x":1}`+"\n")
	w.put(t, "bronze", "bronze/shipments/b.jsonl", `{"x":2}`+"\n")
	w.put(t, "bronze", "bronze/replay/old/run0/shipments/a.jsonl", `{"x":1}`+"\n")
	h, err := Replay(context.Background(), w.runtime(map[string]string{EnvReplayCopyPrefixes: "bronze/replay/"}))
	if err != nil {
		t.Fatal(err)
	}
	out, err := invoke(t, h, `{"bronze_bucket":"bronze","src_prefix":"bronze/","dest_prefix_base":"bronze/replay/manual",
		"execution_name":"run1","start":"2000-01-01T00:00:00Z","end":"2100-01-01T00:00:00Z","silver_bucket":"silver"}`)
	if err != nil {
		t.Fatal(err)
	}
	var o struct {
		Copied        int    `json:"copied"`
		SkippedCopies int    `json:"skipped_copies"`
		CopyList      string `json:"copy_list"`
	}
	if err := json.Unmarshal([]byte(out), &o); err != nil || o.Copied != 2 || o.SkippedCopies != 1 || !strings.HasPrefix(o.CopyList, "ops/replay/run1/") {
		t.Fatalf("output %s (%v)", out, err)
	}
	if got := w.keys(t, "bronze", "bronze/replay/manual/run1/"); len(got) != 2 {
		t.Errorf("copies %v, want the two bronze objects (not the earlier copy)", got)
	}
	if got := w.keys(t, "silver", "ops/replay/run1/"); len(got) != 1 || got[0] != o.CopyList {
		t.Errorf("copy lists %v, want [%s]", got, o.CopyList)
	}
	if _, err := invoke(t, h, `{"bronze_bucket":"bronze"}`); errorName(err) != "Replay.InvalidInput" {
		t.Errorf("incomplete request: %v (%q)", err, errorName(err))
	}

	// silverpoll reads the copy list replay wrote: two objects expected,
	// none landed (no transform ran, so no receipts): not ready, no error.
	poll, err := SilverPoll(context.Background(), w.runtime(nil))
	if err != nil {
		t.Fatal(err)
	}
	out, err = invoke(t, poll, `{"silver_bucket":"silver","silver_prefix":"silver/","execution_name":"run1"}`)
	if err != nil {
		t.Fatal(err)
	}
	var p struct {
		Ready    bool     `json:"ready"`
		Expected int      `json:"expected_objects"`
		Landed   int      `json:"landed_objects"`
		Missing  []string `json:"missing"`
	}
	if err := json.Unmarshal([]byte(out), &p); err != nil || p.Ready || p.Expected != 2 || p.Landed != 0 || len(p.Missing) != 2 {
		t.Fatalf("silverpoll output %s (%v)", out, err)
	}
	if _, err := invoke(t, poll, `{"silver_bucket":"silver"}`); errorName(err) != "SilverPoll.InvalidInput" {
		t.Errorf("silverpoll without execution_name: %v", err)
	}
}

// TestCompactionEntries: list_partitions lists silver partitions from S3;
// compact, compact_cleanup and crawl decode their payloads and refuse an
// incomplete one with the tasks' InvalidInput name before touching Glue.
func TestCompactionEntries(t *testing.T) {
	w := newS3World(t, "silver")
	for _, k := range []string{"silver/shipments/dt=2026-01-01/part-a.parquet", "silver/shipments/dt=2026-01-02/part-b.parquet", "silver/tracking_events/dt=2026-01-01/part-c.parquet", "_receipts/x/c00000/y.json"} {
		w.put(t, "silver", k, "not parquet, never read")
	}
	vars := map[string]string{EnvGlueDatabase: "elt_dev_silver", EnvTempDir: t.TempDir()}
	list, err := ListPartitions(context.Background(), w.runtime(vars))
	if err != nil {
		t.Fatal(err)
	}
	out, err := invoke(t, list, `{"silver_bucket":"silver","record_types":["shipments"],"dt_from":"2026-01-02","dt_to":"2026-01-31"}`)
	if err != nil {
		t.Fatal(err)
	}
	if out != `{"partitions":[{"record_type":"shipments","dt":"2026-01-02"}],"count":1}` {
		t.Errorf("list_partitions output %s", out)
	}
	cases := []struct {
		name    string
		factory Factory
		payload string
	}{
		{"compact", Compact, `{"silver_bucket":"silver","record_type":"shipments"}`},
		{"compact_cleanup", CompactCleanup, `{"bucket":"silver"}`},
		{"crawl", Crawl, `{}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h, err := tc.factory(context.Background(), w.runtime(vars))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := invoke(t, h, tc.payload); !strings.HasSuffix(errorName(err), ".InvalidInput") {
				t.Errorf("%s on %s: %v (name %q)", tc.name, tc.payload, err, errorName(err))
			}
			if _, err := invoke(t, h, `"x"`); errorName(err) != "InvalidInput" {
				t.Errorf("%s on a string payload: %v", tc.name, err)
			}
		})
	}
}

// TestWorkflowEntryConfigErrors: each workflow entry refuses a bad
// environment at cold start, naming the variable.
func TestWorkflowEntryConfigErrors(t *testing.T) {
	cases := []struct {
		name    string
		factory Factory
		env     map[string]string
		want    string
	}{
		{"replay copy prefix outside bronze", Replay, map[string]string{EnvReplayCopyPrefixes: "elsewhere/"}, EnvReplayCopyPrefixes + ": prefix elsewhere/ is not under"},
		{"replay absolute bronze prefix", Replay, map[string]string{EnvBronzePrefix: "/bronze"}, EnvBronzePrefix + ":"},
		{"ingest copy prefix outside bronze", Ingest, map[string]string{EnvQueueURL: "http://q", EnvLedgerTable: "t", EnvReplayCopyPrefixes: "bronze/replay/,elsewhere/"}, EnvReplayCopyPrefixes + ": prefix elsewhere/ is not under"},
		{"compact without database", Compact, map[string]string{}, EnvGlueDatabase + ": required but not set"},
		{"compact_cleanup without database", CompactCleanup, map[string]string{}, EnvGlueDatabase + ": required but not set"},
		{"list_partitions without database", ListPartitions, map[string]string{}, EnvGlueDatabase + ": required but not set"},
		{"crawl without database", Crawl, map[string]string{}, EnvGlueDatabase + ": required but not set"},
		{"compact with a missing temp dir", Compact, map[string]string{EnvGlueDatabase: "d", EnvTempDir: "/nonexistent/elt"}, EnvTempDir + ": /nonexistent/elt is not a writable directory"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.factory(context.Background(), &Runtime{Env: env(tc.env), Log: discard(), Now: time.Now})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

// TestCopyPrefixes: ingest and replay read the same list of replay copy
// prefixes (the only keys whose content identity metadata is believed);
// unset, it is <bronze prefix>replay/, where the Terraform IAM lets replay
// write.
func TestCopyPrefixes(t *testing.T) {
	cases := []struct {
		name string
		env  map[string]string
		want []string
	}{
		{"unset", nil, []string{"bronze/replay/"}},
		{"blank", map[string]string{EnvReplayCopyPrefixes: " , "}, []string{"bronze/replay/"}},
		{"unset under another bronze prefix", map[string]string{EnvBronzePrefix: "raw"}, []string{"raw/replay/"}},
		{"list, normalised", map[string]string{EnvReplayCopyPrefixes: "bronze/replay, bronze/archive/ "}, []string{"bronze/replay/", "bronze/archive/"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := env(tc.env)
			bp, err := prefix(e, EnvBronzePrefix, DefaultBronzePrefix)
			if err != nil {
				t.Fatal(err)
			}
			got, err := copyPrefixes(e, bp)
			if err != nil || strings.Join(got, "|") != strings.Join(tc.want, "|") {
				t.Fatalf("copyPrefixes = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}
