package engine

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"
)

// Event is one execution history event, shaped like an entry of the
// GetExecutionHistory response: the details sit under a type-specific key
// such as "stateEnteredEventDetails" or "taskFailedEventDetails".
type Event struct {
	ID              int64     `json:"id"`
	PreviousEventID int64     `json:"previousEventId"`
	Timestamp       time.Time `json:"timestamp"`
	Type            string    `json:"type"`
	// DetailsKey is the response field holding Details, derived from Type.
	DetailsKey string         `json:"-"`
	Details    map[string]any `json:"-"`
}

// MarshalJSON writes the event with its details under DetailsKey.
func (e Event) MarshalJSON() ([]byte, error) {
	m := map[string]any{
		"id":              e.ID,
		"previousEventId": e.PreviousEventID,
		"timestamp":       e.Timestamp.UTC().Format(time.RFC3339Nano),
		"type":            e.Type,
	}
	if e.DetailsKey != "" && e.Details != nil {
		m[e.DetailsKey] = e.Details
	}
	return json.Marshal(m)
}

// UnmarshalJSON reads what MarshalJSON wrote.
func (e *Event) UnmarshalJSON(b []byte) error {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	var ts string
	for k, v := range m {
		var err error
		switch k {
		case "id":
			err = json.Unmarshal(v, &e.ID)
		case "previousEventId":
			err = json.Unmarshal(v, &e.PreviousEventID)
		case "timestamp":
			err = json.Unmarshal(v, &ts)
		case "type":
			err = json.Unmarshal(v, &e.Type)
		default:
			if strings.HasSuffix(k, "EventDetails") {
				e.DetailsKey = k
				d := json.NewDecoder(bytes.NewReader(v))
				d.UseNumber()
				err = d.Decode(&e.Details)
			}
		}
		if err != nil {
			return fmt.Errorf("history event field %s: %w", k, err)
		}
	}
	if ts != "" {
		t, err := time.Parse(time.RFC3339Nano, ts)
		if err != nil {
			return fmt.Errorf("history event timestamp: %w", err)
		}
		e.Timestamp = t
	}
	return nil
}

// detailsKey maps an event type to the response field of its details, as
// the HistoryEvent structure of the Step Functions API names them.
func detailsKey(typ string) string {
	switch {
	case strings.HasSuffix(typ, "StateEntered"):
		return "stateEnteredEventDetails"
	case strings.HasSuffix(typ, "StateExited"):
		return "stateExitedEventDetails"
	case typ == "MapStateStarted":
		return "mapStateStartedEventDetails"
	case strings.HasPrefix(typ, "MapIteration"):
		return "mapIteration" + strings.TrimPrefix(typ, "MapIteration") + "EventDetails"
	case strings.HasPrefix(typ, "MapRun"):
		return "mapRun" + strings.TrimPrefix(typ, "MapRun") + "EventDetails"
	case typ == "ParallelStateStarted", typ == "ParallelStateSucceeded", typ == "MapStateSucceeded",
		typ == "ParallelStateAborted", typ == "MapStateAborted":
		return ""
	case typ == "ParallelStateFailed", typ == "MapStateFailed":
		return ""
	}
	if typ == "" {
		return ""
	}
	return strings.ToLower(typ[:1]) + typ[1:] + "EventDetails"
}

// historyRecorder numbers an execution's events in order and hands each
// to a sink (the execution store), which keeps them. Past limit events
// (if limit > 0) are dropped and add reports false.
type historyRecorder struct {
	mu    sync.Mutex
	last  int64
	limit int
	sink  func(Event)
}

// add records an event caused by the event prev and returns its id. The
// sink is called under the lock so the store sees events in id order.
func (h *historyRecorder) add(prev int64, at time.Time, typ string, details map[string]any) (int64, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.limit > 0 && h.last >= int64(h.limit) {
		return prev, false
	}
	h.last++
	e := Event{
		ID:              h.last,
		PreviousEventID: prev,
		Timestamp:       at,
		Type:            typ,
		DetailsKey:      detailsKey(typ),
		Details:         details,
	}
	if h.sink != nil {
		h.sink(e)
	}
	return e.ID, true
}

// notTruncated is the inputDetails/outputDetails of every event: local
// payloads are never truncated. Shared and never modified.
var notTruncated = map[string]any{"truncated": false}
