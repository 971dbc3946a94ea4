package compact

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/serverless-elt/elt/internal/fault"
	"github.com/serverless-elt/elt/internal/objstore"
	"github.com/serverless-elt/elt/tasks/crawl"
)

// ManifestName is the manifest's file name beside the outputs. It starts
// with an underscore because query engines skip such files in a table
// location (Athena treats files starting with "_" or "." as hidden, as
// Hive does), so the manifest never reads as a bad Parquet file.
const ManifestName = crawl.ManifestName

// ManifestInput is one superseded input file.
type ManifestInput struct {
	Key  string `json:"key"`
	ETag string `json:"etag"`
	Size int64  `json:"size"`
	Rows int64  `json:"rows"`
}

// ManifestOutput is one written file.
type ManifestOutput struct {
	Key    string `json:"key"`
	Rows   int64  `json:"rows"`
	Bytes  int64  `json:"bytes"`
	SHA256 string `json:"sha256"`
}

// Manifest records one compaction of one partition: what it read, what it
// wrote, and where the catalog pointed before.
type Manifest struct {
	Version    int    `json:"version"`
	RunID      string `json:"run_id"`
	RecordType string `json:"record_type"`
	Dt         string `json:"dt"`
	Bucket     string `json:"bucket"`
	// Location is the outputs' prefix as an s3:// URI (the partition
	// location after the switch).
	Location string `json:"location"`
	// PreviousLocation is the partition location before the switch ("" if
	// the partition was not catalogued).
	PreviousLocation string           `json:"previous_location"`
	CreatedAt        time.Time        `json:"created_at"`
	TargetFileBytes  int64            `json:"target_file_bytes"`
	Inputs           []ManifestInput  `json:"inputs"`
	Outputs          []ManifestOutput `json:"outputs"`
	InputRows        int64            `json:"input_rows"`
	OutputRows       int64            `json:"output_rows"`
	// DuplicatesRemoved counts rows dropped because another row had the
	// same event_id.
	DuplicatesRemoved int64 `json:"duplicates_removed"`
	// RowsWithoutEventID are kept as they are (no identity to dedupe by).
	RowsWithoutEventID int64 `json:"rows_without_event_id"`
}

// ManifestVersion is the current manifest format.
const ManifestVersion = 1

func putManifest(ctx context.Context, store objstore.Store, bucket, key string, m *Manifest) error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("encode manifest: %w", err)
	}
	b = append(b, '\n')
	if _, err := store.Put(ctx, bucket, key, bytes.NewReader(b), &objstore.PutOptions{ContentType: "application/json"}); err != nil {
		return backendError(fmt.Sprintf("put manifest s3://%s/%s", bucket, key), err)
	}
	return nil
}

// ReadManifest reads a manifest; a missing one is (nil, nil).
func ReadManifest(ctx context.Context, store objstore.Store, bucket, key string) (*Manifest, error) {
	rc, _, err := store.Get(ctx, bucket, key, nil)
	if fault.Is(err, fault.NotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, backendError(fmt.Sprintf("get manifest s3://%s/%s", bucket, key), err)
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, 64<<20))
	if err != nil {
		return nil, backendError(fmt.Sprintf("read manifest s3://%s/%s", bucket, key), err)
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, errorf(ErrCorruptInput, "decode manifest s3://%s/%s: %w", bucket, key, err)
	}
	if m.Version != ManifestVersion {
		return nil, errorf(ErrCorruptInput, "manifest s3://%s/%s: version %d, want %d", bucket, key, m.Version, ManifestVersion)
	}
	return &m, nil
}
