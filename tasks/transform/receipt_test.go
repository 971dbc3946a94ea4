package transform

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/serverless-elt/elt/internal/objstore"
	"github.com/serverless-elt/elt/internal/work"
)

func readReceipt(t *testing.T, st objstore.Store, bucket, key string) Receipt {
	t.Helper()
	rc, _, err := st.Get(context.Background(), bucket, key, nil)
	if err != nil {
		t.Fatalf("receipt %s: %v", key, err)
	}
	defer rc.Close()
	var r Receipt
	if err := json.NewDecoder(rc).Decode(&r); err != nil {
		t.Fatal(err)
	}
	return r
}

// Every chunk of a transformed object leaves one receipt naming exactly the
// files it committed, with rows that add up to the chunk's counts.
func TestReceiptPerChunk(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, nil)
	content, good, bad := bronze()
	oi := e.put(t, "bronze/mixed.jsonl", []byte(content))
	in := messages(t, oi, 10_000, work.JSONL, false)
	if _, err := e.h.Handle(ctx, in); err != nil {
		t.Fatal(err)
	}
	page, err := e.store.List(ctx, "lake", objstore.ListOptions{Prefix: ReceiptObjectPrefix(oi.ETag)})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Objects) != len(in.Records) {
		t.Fatalf("%d receipts for %d chunks", len(page.Objects), len(in.Records))
	}
	var rows, quarantined int64
	for i := range in.Records {
		key := ReceiptKey("raw", "bronze/mixed.jsonl", oi.ETag, i)
		if !strings.HasPrefix(key, fmt.Sprintf("_receipts/%s/c%05d/", oi.ETag, i)) || !strings.HasSuffix(key, ".json") {
			t.Fatalf("receipt key %s", key)
		}
		r := readReceipt(t, e.store, "lake", key)
		if r.Bucket != "raw" || r.Key != "bronze/mixed.jsonl" || r.ETag != oi.ETag || r.Chunk != i || r.Chunks != len(in.Records) {
			t.Fatalf("receipt %d: %+v", i, r)
		}
		var fileRows, fileBad int64
		for _, f := range r.Files {
			if _, err := e.store.Head(ctx, "lake", f.Key); err != nil {
				t.Fatalf("receipt names %s: %v", f.Key, err)
			}
			if f.Kind == "silver" {
				fileRows += f.Rows
			} else {
				fileBad += f.Rows
			}
		}
		if fileRows != r.Rows || fileBad != r.Quarantined || r.Records != r.Rows+r.Duplicates+r.Quarantined {
			t.Fatalf("receipt %d counts %+v; files hold %d rows, %d quarantined", i, r, fileRows, fileBad)
		}
		rows += r.Rows
		quarantined += r.Quarantined
	}
	if rows != int64(good) || quarantined != int64(bad) {
		t.Fatalf("receipts sum to %d rows %d quarantined; want %d %d", rows, quarantined, good, bad)
	}

	// A copy of the object under another key (a replay) rewrites the same
	// silver files but gets receipts of its own.
	if _, err := e.store.Copy(ctx, "raw", "bronze/mixed.jsonl", "raw", "bronze/replay/x/mixed.jsonl", nil); err != nil {
		t.Fatal(err)
	}
	cp, _ := e.store.Head(ctx, "raw", "bronze/replay/x/mixed.jsonl")
	if _, err := e.h.Handle(ctx, messages(t, cp, 10_000, work.JSONL, false)); err != nil {
		t.Fatal(err)
	}
	page, _ = e.store.List(ctx, "lake", objstore.ListOptions{Prefix: ReceiptObjectPrefix(oi.ETag)})
	if cp.ETag != oi.ETag || len(page.Objects) != 2*len(in.Records) {
		t.Fatalf("etag %s vs %s, %d receipts", cp.ETag, oi.ETag, len(page.Objects))
	}
	if r := readReceipt(t, e.store, "lake", ReceiptKey("raw", "bronze/replay/x/mixed.jsonl", oi.ETag, 0)); r.Key != "bronze/replay/x/mixed.jsonl" {
		t.Fatalf("copy receipt %+v", r)
	}
	ids, q := e.silverRows(t)
	if len(ids) != good || q != bad {
		t.Fatalf("after the copy: %d rows, %d quarantined", len(ids), q)
	}
}

// A receipt that cannot be written fails the message (it is redelivered),
// and no receipt exists without its outputs.
func TestReceiptFailureFailsMessage(t *testing.T) {
	var flaky *flakyStore
	e := newEnv(t, func(s objstore.Store) objstore.Store { flaky = &flakyStore{Store: s}; return flaky })
	oi := e.put(t, "bronze/one.jsonl", []byte(line("shipments", 1, 1)+"\n"))
	in := messages(t, oi, 1<<20, work.JSONL, false)
	flaky.failPut = ReceiptPrefix
	out, err := e.h.Handle(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	if len(out.BatchItemFailures) != 1 || out.Rows != 0 {
		t.Fatalf("out %+v", out)
	}
	if _, err := e.store.Head(context.Background(), "lake", ReceiptKey("raw", "bronze/one.jsonl", oi.ETag, 0)); err == nil {
		t.Fatal("receipt exists after a failed put")
	}
	// The redelivery succeeds and rewrites the same outputs.
	flaky.failPut = ""
	out, err = e.h.Handle(context.Background(), in)
	if err != nil || len(out.BatchItemFailures) != 0 || out.Rows != 1 {
		t.Fatalf("redelivery %+v %v", out, err)
	}
	r := readReceipt(t, e.store, "lake", ReceiptKey("raw", "bronze/one.jsonl", oi.ETag, 0))
	if len(r.Files) != 1 || r.Files[0].Rows != 1 || r.Files[0].Kind != "silver" {
		t.Fatalf("receipt %+v", r)
	}
	if _, err := e.store.Head(context.Background(), "lake", r.Files[0].Key); err != nil {
		t.Fatal(err)
	}
}
