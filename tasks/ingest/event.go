package ingest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"

	"github.com/aws/aws-lambda-go/events"
)

// Object is one object version named by an ObjectCreated record, with its key
// already URL-decoded.
type Object struct {
	Bucket    string `json:"bucket"`
	Key       string `json:"key"`
	ETag      string `json:"etag"` // without quotes; may be empty (events we build by hand)
	Size      int64  `json:"size"`
	VersionID string `json:"version_id,omitempty"`
	Sequencer string `json:"sequencer,omitempty"`
	EventName string `json:"event_name"`
}

// Skip says why a record of an event was not turned into an Object.
type Skip struct {
	Index  int    `json:"index"`
	Reason string `json:"reason"`
}

// ParseEvent decodes the body of an S3 event notification. The test event S3
// sends when a notification is configured ({"Event":"s3:TestEvent", ...}) has
// no Records and yields an empty event, not an error.
//
// Structure: https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-content-structure.html
func ParseEvent(body []byte) (events.S3Event, error) {
	var probe struct {
		Records json.RawMessage `json:"Records"`
		Event   string          `json:"Event"`
	}
	if err := json.Unmarshal(body, &probe); err != nil {
		return events.S3Event{}, fmt.Errorf("parse s3 event: %w", err)
	}
	if probe.Event == "s3:TestEvent" || len(probe.Records) == 0 || bytes.Equal(probe.Records, []byte("null")) {
		return events.S3Event{}, nil
	}
	var ev events.S3Event
	if err := json.Unmarshal(body, &ev); err != nil {
		// events.S3Object decodes the key with url.QueryUnescape, so a key
		// that is not valid URL encoding fails here too.
		return events.S3Event{}, fmt.Errorf("parse s3 event records: %w", err)
	}
	return ev, nil
}

// Objects returns the object versions an event asks us to ingest: only
// ObjectCreated:* records from aws:s3, keys URL-decoded the way S3 encodes
// them (form encoding: "+" is a space, "%3D" is "="; url.QueryUnescape),
// quotes stripped from ETags. Records it does not take are reported in skips.
func Objects(ev events.S3Event) (objs []Object, skips []Skip) {
	for i, r := range ev.Records {
		if r.EventSource != "" && r.EventSource != "aws:s3" {
			skips = append(skips, Skip{i, "event source " + r.EventSource})
			continue
		}
		if !strings.HasPrefix(r.EventName, "ObjectCreated:") {
			skips = append(skips, Skip{i, "event " + r.EventName})
			continue
		}
		key, err := url.QueryUnescape(r.S3.Object.Key)
		if err != nil {
			skips = append(skips, Skip{i, fmt.Sprintf("key %q: %v", r.S3.Object.Key, err)})
			continue
		}
		if r.S3.Bucket.Name == "" || key == "" {
			skips = append(skips, Skip{i, "no bucket or key"})
			continue
		}
		objs = append(objs, Object{
			Bucket:    r.S3.Bucket.Name,
			Key:       key,
			ETag:      NormalizeETag(r.S3.Object.ETag),
			Size:      r.S3.Object.Size,
			VersionID: r.S3.Object.VersionID,
			Sequencer: r.S3.Object.Sequencer,
			EventName: r.EventName,
		})
	}
	return objs, skips
}

// NormalizeETag strips the quotes S3 puts around ETags in some APIs.
func NormalizeETag(s string) string {
	return strings.Trim(strings.TrimSpace(s), `"`)
}

// EncodeKey encodes an object key the way S3 does in event notifications
// (url.QueryEscape: a space becomes "+", "=" becomes "%3D", "/" stays
// readable). The embedded notifier uses it to build S3-shaped events.
func EncodeKey(key string) string {
	parts := strings.Split(key, "/")
	for i, p := range parts {
		parts[i] = url.QueryEscape(p)
	}
	return strings.Join(parts, "/")
}

// ClaimKey is the ledger key of one object version.
func ClaimKey(bucket, key, etag string) string {
	return fmt.Sprintf("s3://%s/%s#%s", bucket, key, etag)
}
