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
