package ingest

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

// Fixtures follow the event message structure documented at
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-content-structure.html
// (s3-put.json is the page's example with a form-encoded key; s3-test-event.json
// is the s3:TestEvent S3 sends when a notification is configured).
func TestParseEventFixtures(t *testing.T) {
	tests := []struct {
		file  string
		objs  []Object
		skips int
	}{
		{
			file: "s3-put.json",
			objs: []Object{{
				Bucket: "amzn-s3-demo-bucket", Key: "bronze/shipments/dt=2025-01-01/red flower.jsonl",
				ETag: "d41d8cd98f00b204e9800998ecf8427e", Size: 1024,
				VersionID: "096fKKXTRTtl3on89fVO.nfljtsv6qko", Sequencer: "0055AED6DCD90281E5",
				EventName: "ObjectCreated:Put",
			}},
		},
		{file: "s3-test-event.json"},
		{
			file: "s3-multi.json",
			objs: []Object{
				{
					Bucket: "bronze", Key: "bronze/tracking_events/big.jsonl.gz",
					ETag: "9b2cf535f27731c974343645a3985328-2", Size: 5242880,
					Sequencer: "0A1B2C3D4E5F678901", EventName: "ObjectCreated:CompleteMultipartUpload",
				},
				{
					Bucket: "bronze", Key: "bronze/replay/2026-01-01T00-00-00Z/invoice lines+qé.json",
					ETag: "0123456789abcdef0123456789abcdef", Size: 20,
					Sequencer: "0A1B2C3D4E5F678903", EventName: "ObjectCreated:Copy",
				},
			},
			skips: 1, // ObjectRemoved:Delete
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			body, err := os.ReadFile(filepath.Join("testdata", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			ev, err := ParseEvent(body)
			if err != nil {
				t.Fatalf("ParseEvent: %v", err)
			}
			objs, skips := Objects(ev)
			if !reflect.DeepEqual(objs, tt.objs) {
				t.Errorf("objects\n got %+v\nwant %+v", objs, tt.objs)
			}
			if len(skips) != tt.skips {
				t.Errorf("skips = %+v, want %d", skips, tt.skips)
			}
		})
	}
}

func TestParseEventErrors(t *testing.T) {
	for name, body := range map[string]string{
		"not json":        `{"Records":`,
		"records object":  `{"Records":{}}`,
		"bad key escape":  `{"Records":[{"eventSource":"aws:s3","eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"b"},"object":{"key":"a%zz"}}}]}`,
		"size not number": `{"Records":[{"eventName":"ObjectCreated:Put","s3":{"object":{"key":"k","size":"x"}}}]}`,
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := ParseEvent([]byte(body)); err == nil {
				t.Fatal("want error")
			}
		})
	}
}

// Events built in code (the embedded notifier, a hand-written test event)
// do not go through S3Object.UnmarshalJSON, so Objects decodes keys itself.
func TestObjectsDecodesKeys(t *testing.T) {
	tests := []struct {
		encoded, want string
		ok            bool
	}{
		{"bronze/a+b.jsonl", "bronze/a b.jsonl", true},
		{"bronze/dt%3D2025-01-01/x.jsonl", "bronze/dt=2025-01-01/x.jsonl", true},
		{"bronze/plus%2Bsign.json", "bronze/plus+sign.json", true},
		{"bronze/caf%C3%A9.jsonl", "bronze/café.jsonl", true},
		{"bronze/bad%G1.jsonl", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.encoded, func(t *testing.T) {
			ev := events.S3Event{Records: []events.S3EventRecord{created("b", tt.encoded, "e")}}
			objs, skips := Objects(ev)
			if !tt.ok {
				if len(objs) != 0 || len(skips) != 1 {
					t.Fatalf("want one skip, got %+v %+v", objs, skips)
				}
				return
			}
			if len(objs) != 1 || objs[0].Key != tt.want {
				t.Fatalf("got %+v, want key %q", objs, tt.want)
			}
			if got := EncodeKey(tt.want); got != tt.encoded && tt.encoded != "bronze/caf%C3%A9.jsonl" {
				t.Errorf("EncodeKey(%q) = %q, want %q", tt.want, got, tt.encoded)
			}
		})
	}
}

func TestEncodeKeyRoundTrip(t *testing.T) {
	for _, k := range []string{"bronze/a b/c=d+e%f.jsonl", "bronze/ünï/x y.json.gz", "a//b"} {
		ev := events.S3Event{Records: []events.S3EventRecord{created("b", EncodeKey(k), "e")}}
		objs, _ := Objects(ev)
		if len(objs) != 1 || objs[0].Key != k {
			t.Errorf("round trip of %q: %+v", k, objs)
		}
	}
}

func created(bucket, encodedKey, etag string) events.S3EventRecord {
	var r events.S3EventRecord
	r.EventSource = "aws:s3"
	r.EventName = "ObjectCreated:Put"
	r.S3.Bucket.Name = bucket
	r.S3.Object.Key = encodedKey
	r.S3.Object.ETag = etag
	return r
}

// FuzzParseEvent: any body either fails to parse or yields objects with
// non-empty bucket and key, never a panic; and the keys survive an
// encode/decode round trip.
func FuzzParseEvent(f *testing.F) {
	for _, name := range []string{"s3-put.json", "s3-test-event.json", "s3-multi.json"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"Records":null}`))
	f.Add([]byte(`{"Records":[{"eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"b"},"object":{"key":"%2"}}}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		ev, err := ParseEvent(body)
		if err != nil {
			return
		}
		objs, skips := Objects(ev)
		if len(objs)+len(skips) != len(ev.Records) {
			t.Fatalf("%d objects + %d skips != %d records", len(objs), len(skips), len(ev.Records))
		}
		for _, o := range objs {
			if o.Bucket == "" || o.Key == "" {
				t.Fatalf("empty bucket or key: %+v", o)
			}
			re := events.S3Event{Records: []events.S3EventRecord{created(o.Bucket, EncodeKey(o.Key), o.ETag)}}
			back, _ := Objects(re)
			if len(back) != 1 || back[0].Key != o.Key {
				t.Fatalf("key %q does not round-trip: %+v", o.Key, back)
			}
		}
	})
}
