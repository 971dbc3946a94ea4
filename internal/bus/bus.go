// Package bus publishes events such as "partition ready" (EventBridge on AWS,
// a local bus on disk when embedded) so rules can start workflows.
package bus

import (
	"context"
	"encoding/json"
	"time"
)

// Event is one event, shaped like an EventBridge PutEvents entry.
type Event struct {
	Source     string          `json:"source"`
	DetailType string          `json:"detail-type"`
	Detail     json.RawMessage `json:"detail"`
	Time       time.Time       `json:"time"`
	Resources  []string        `json:"resources,omitempty"`
}

// Bus publishes events. Put returns an error if any entry could not be
// published after the driver's own retries of failed entries.
type Bus interface {
	Put(ctx context.Context, events []Event) error
}

// Source is the event source our pipeline publishes under.
const Source = "elt.pipeline"

// DetailTypePartitionReady is emitted once per silver partition written.
const DetailTypePartitionReady = "PartitionReady"

// PartitionReady is the detail of a DetailTypePartitionReady event.
type PartitionReady struct {
	Bucket     string `json:"bucket"`
	RecordType string `json:"record_type"`
	Dt         string `json:"dt"`
	Prefix     string `json:"prefix"`
	// Files are the silver keys written for this partition by the event's producer.
	Files []string `json:"files"`
	Rows  int64    `json:"rows"`
}
