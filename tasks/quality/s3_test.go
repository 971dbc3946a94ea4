package quality_test

import (
	"context"
	"strings"
	"testing"

	"github.com/serverless-elt/elt/internal/awstest"
	"github.com/serverless-elt/elt/internal/objstore/s3store"
	"github.com/serverless-elt/elt/tasks/quality"
	"github.com/serverless-elt/elt/tasks/quality/qualitytest"
)

// The gate over S3 (gofakes3 on 127.0.0.1 through s3store): footers read
// with ranged GETs, files staged with GET, results and reports PUT; the
// verdict and counts are the ones the fsstore run gives.
func TestOverS3(t *testing.T) {
	ctx := context.Background()
	srv, err := awstest.StartS3()
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	for _, b := range []string{qualitytest.BronzeBucket, qualitytest.SilverBucket} {
		if err := srv.CreateBucket(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	c, err := srv.Client(ctx)
	if err != nil {
		t.Fatal(err)
	}
	st := s3store.New(c, s3store.Options{})
	qualitytest.Land(t, st, "bronze/a.jsonl", []byte(cleanA))
	qualitytest.Land(t, st, "bronze/b.jsonl", []byte(badB))
	out, err := newTask(t, st, nil).Handle(ctx, input())
	if err != nil {
		t.Fatal(err)
	}
	if out.Success || out.Rows != 6 || out.Files != 2 || len(out.FailedExpectations) != 5 {
		t.Fatalf("output %+v", out)
	}
	res := validationResult(t, st, out)
	for _, r := range res.Results {
		if r.ExpectationConfig.Label() == "expect_column_values_to_be_unique(shipment_id)" && r.Result["unexpected_count"] != 2.0 {
			t.Fatalf("unique: %v", r.Result)
		}
	}
	if html := string(read(t, st, "silver", out.ReportKey)); !strings.Contains(html, "Pigeon Express") {
		t.Fatal("report")
	}
	in := input()
	in.Dt = "2024-05-02"
	if _, err := newTask(t, st, nil).Handle(ctx, in); errName(err) != quality.ErrPartitionNotFound {
		t.Fatalf("empty partition over S3: %v", err)
	}
}
