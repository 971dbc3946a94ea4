package engine

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/serverless-elt/elt/internal/objstore"
)

// readItems reads a distributed Map's items with its ItemReader from the
// object store: a JSON array, JSON Lines, CSV (header row or given
// headers), or an object listing (s3:listObjectsV2).
func (x *execution) readItems(ctx context.Context, st *state, input any, ctxObj map[string]any) ([]any, error) {
	r := st.itemReader
	fail := func(format string, args ...any) error {
		return &Error{Name: ErrItemReaderFailed, Cause: fmt.Sprintf(format, args...)}
	}
	store := x.eng.services.Objects
	if store == nil {
		return nil, &Error{Name: ErrRuntime, Cause: "ItemReader: the engine has no object store configured"}
	}
	var params any = map[string]any{}
	if r.parameters != nil {
		var err error
		if params, err = r.parameters.eval(input, ctxObj, x.env(input, ctxObj)); err != nil {
			return nil, err
		}
	}
	bucket, err := stringParam(params, "Bucket", true)
	if err != nil {
		return nil, fail("%v", err)
	}
	maxItems, err := x.intField(r.maxItems, r.maxItemsPath, input, "MaxItemsPath")
	if err != nil {
		return nil, err
	}
	var items []any
	base, _ := integrationPattern(r.resource)
	switch base {
	case "arn:aws:states:::s3:listObjectsV2":
		prefix, _ := stringParam(params, "Prefix", false)
		token := ""
		for {
			page, err := store.List(ctx, bucket, objstore.ListOptions{Prefix: prefix, ContinuationToken: token})
			if err != nil {
				return nil, fail("list s3://%s/%s: %v", bucket, prefix, err)
			}
			for _, o := range page.Objects {
				items = append(items, map[string]any{
					"Etag":         strconv.Quote(o.ETag),
					"Key":          o.Key,
					"LastModified": json.Number(strconv.FormatInt(o.LastModified.Unix(), 10)),
					"Size":         json.Number(strconv.FormatInt(o.Size, 10)),
					"StorageClass": "STANDARD",
				})
			}
			token = page.NextContinuationToken
			if token == "" || (maxItems > 0 && len(items) >= maxItems) {
				break
			}
		}
	case "arn:aws:states:::s3:getObject":
		key, err := stringParam(params, "Key", true)
		if err != nil {
			return nil, fail("%v", err)
		}
		rc, _, err := store.Get(ctx, bucket, key, nil)
		if err != nil {
			return nil, fail("read s3://%s/%s: %v", bucket, key, err)
		}
		data, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			return nil, fail("read s3://%s/%s: %v", bucket, key, err)
		}
		if items, err = parseItems(data, r); err != nil {
			return nil, fail("s3://%s/%s: %v", bucket, key, err)
		}
	default:
		return nil, fail("unsupported ItemReader resource %s", r.resource)
	}
	if maxItems > 0 && len(items) > maxItems {
		items = items[:maxItems]
	}
	return items, nil
}

func parseItems(data []byte, r *itemReader) ([]any, error) {
	switch r.inputType {
	case "JSON", "":
		v, err := decodeJSON(data)
		if err != nil {
			return nil, fmt.Errorf("not JSON: %w", err)
		}
		arr, ok := v.([]any)
		if !ok {
			return nil, fmt.Errorf("JSON input must be an array, got %s", typeOfJSON(v))
		}
		return arr, nil
	case "JSONL":
		var out []any
		sc := bufio.NewScanner(bytes.NewReader(data))
		sc.Buffer(make([]byte, 1<<20), PayloadLimit*4)
		line := 0
		for sc.Scan() {
			line++
			if len(bytes.TrimSpace(sc.Bytes())) == 0 {
				continue
			}
			v, err := decodeJSON(sc.Bytes())
			if err != nil {
				return nil, fmt.Errorf("line %d: %w", line, err)
			}
			out = append(out, v)
		}
		return out, sc.Err()
	case "CSV":
		cr := csv.NewReader(bytes.NewReader(data))
		cr.FieldsPerRecord = -1
		rows, err := cr.ReadAll()
		if err != nil {
			return nil, fmt.Errorf("CSV: %w", err)
		}
		headers := r.csvHeaders
		if r.csvHeaderLocation != "GIVEN" {
			if len(rows) == 0 {
				return nil, fmt.Errorf("CSV: no header row")
			}
			headers, rows = rows[0], rows[1:]
		}
		out := make([]any, 0, len(rows))
		for n, row := range rows {
			if len(row) > len(headers) {
				return nil, fmt.Errorf("CSV row %d has %d fields but there are %d headers", n+1, len(row), len(headers))
			}
			m := make(map[string]any, len(headers))
			for i, h := range headers {
				v := ""
				if i < len(row) {
					v = row[i]
				}
				m[h] = v
			}
			out = append(out, m)
		}
		return out, nil
	}
	return nil, fmt.Errorf("unsupported InputType %q", r.inputType)
}

// batch groups item inputs per ItemBatcher: {"BatchInput": ..., "Items": [...]}.
func (x *execution) batch(st *state, inputs []any, input any, ctxObj map[string]any) ([]any, error) {
	b := st.itemBatcher
	maxItems, err := x.intField(b.maxItems, b.maxItemsPath, input, "MaxItemsPerBatchPath")
	if err != nil {
		return nil, err
	}
	maxBytes, err := x.intField(b.maxBytes, b.maxBytesPath, input, "MaxInputBytesPerBatchPath")
	if err != nil {
		return nil, err
	}
	var batchInput any
	if b.batchInput != nil {
		if batchInput, err = b.batchInput.eval(input, ctxObj, x.env(input, ctxObj)); err != nil {
			return nil, err
		}
	}
	var out []any
	var cur []any
	size := 0
	flush := func() {
		if len(cur) == 0 {
			return
		}
		m := map[string]any{"Items": cur}
		if b.batchInput != nil {
			m["BatchInput"] = batchInput
		}
		out = append(out, m)
		cur, size = nil, 0
	}
	for _, it := range inputs {
		n := len(jsonText(it))
		if len(cur) > 0 && ((maxItems > 0 && len(cur) >= maxItems) || (maxBytes > 0 && size+n > maxBytes)) {
			flush()
		}
		cur = append(cur, it)
		size += n
	}
	flush()
	return out, nil
}

// writeResults writes a distributed Map's results like AWS's ResultWriter:
// PREFIX/RUNID/manifest.json and SUCCEEDED_0.json / FAILED_0.json /
// PENDING_0.json, and returns the state's result
// {"MapRunArn", "ResultWriterDetails": {"Bucket", "Key"}}.
func (x *execution) writeResults(ctx context.Context, st *state, input any, mapRunArn, runID, label string, its []iteration) (any, error) {
	store := x.eng.services.Objects
	if store == nil {
		return nil, fmt.Errorf("the engine has no object store configured")
	}
	var params any = map[string]any{}
	if st.resultWriter.parameters != nil {
		var err error
		if params, err = st.resultWriter.parameters.eval(input, nil, x.env(input, nil)); err != nil {
			return nil, err
		}
	}
	bucket, err := stringParam(params, "Bucket", true)
	if err != nil {
		return nil, err
	}
	prefix, _ := stringParam(params, "Prefix", false)
	dir := runID
	if prefix != "" {
		dir = strings.TrimSuffix(prefix, "/") + "/" + runID
	}
	var ok, failed []any
	for _, it := range its {
		rec := map[string]any{
			"ExecutionArn":        it.arn,
			"Input":               jsonText(it.input),
			"InputDetails":        map[string]any{"Included": true},
			"Name":                it.name,
			"RedriveCount":        json.Number("0"),
			"RedriveStatus":       "NOT_REDRIVABLE",
			"StartDate":           it.start.UTC().Format(time.RFC3339Nano),
			"StateMachineArn":     StateMachineArn(x.smName + "/" + mapLabel(label)),
			"StopDate":            it.stop.UTC().Format(time.RFC3339Nano),
			"RedriveStatusReason": "Execution is SUCCEEDED and cannot be redriven",
		}
		if it.err != nil {
			rec["Status"] = StatusFailed
			rec["Error"] = it.err.Name
			rec["Cause"] = it.err.Cause
			rec["RedriveStatusReason"] = "Execution is part of a Map Run"
			failed = append(failed, rec)
			continue
		}
		rec["Status"] = StatusSucceeded
		rec["Output"] = jsonText(it.output)
		rec["OutputDetails"] = map[string]any{"Included": true}
		ok = append(ok, rec)
	}
	files := map[string][]any{"SUCCEEDED": {}, "FAILED": {}, "PENDING": {}}
	for _, f := range []struct {
		status string
		recs   []any
	}{{"SUCCEEDED", ok}, {"FAILED", failed}} {
		if len(f.recs) == 0 {
			continue
		}
		key := dir + "/" + f.status + "_0.json"
		text := jsonText(f.recs)
		info, err := store.Put(ctx, bucket, key, strings.NewReader(text), &objstore.PutOptions{ContentType: "application/json"})
		if err != nil {
			return nil, fmt.Errorf("write s3://%s/%s: %w", bucket, key, err)
		}
		files[f.status] = append(files[f.status], map[string]any{"Key": key, "Size": json.Number(strconv.FormatInt(info.Size, 10))})
	}
	manifest := map[string]any{
		"DestinationBucket": bucket,
		"MapRunArn":         mapRunArn,
		"ResultFiles":       files,
	}
	mkey := dir + "/manifest.json"
	if _, err := store.Put(ctx, bucket, mkey, strings.NewReader(jsonText(manifest)), &objstore.PutOptions{ContentType: "application/json"}); err != nil {
		return nil, fmt.Errorf("write s3://%s/%s: %w", bucket, mkey, err)
	}
	return map[string]any{
		"MapRunArn":           mapRunArn,
		"ResultWriterDetails": map[string]any{"Bucket": bucket, "Key": mkey},
	}, nil
}
