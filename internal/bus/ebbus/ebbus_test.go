package ebbus_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/serverless-elt/elt/internal/awstest"
	"github.com/serverless-elt/elt/internal/bus"
	"github.com/serverless-elt/elt/internal/bus/ebbus"
	"github.com/serverless-elt/elt/internal/fault"
)

// No EventBridge server exists in the registries, so these tests check the
// wire shapes against a loopback server that validates each request as the
// PutEvents API reference describes (AWS JSON 1.1, X-Amz-Target
// AWSEvents.PutEvents, 1..10 entries) and answers with responses shaped as
// the documented ones ("Handling failures with PutEvents",
// https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-putevents.html):
// one result per request entry, in order; failures carry ErrorCode and
// ErrorMessage, successes an EventId.

type entry struct {
	Source       string   `json:"Source"`
	DetailType   string   `json:"DetailType"`
	Detail       string   `json:"Detail"`
	EventBusName string   `json:"EventBusName"`
	Resources    []string `json:"Resources"`
	Time         *float64 `json:"Time"`
}

type fakeEB struct {
	t        *testing.T
	mu       sync.Mutex
	calls    [][]entry
	failures func(call int, e entry) (code, msg string) // "" = success
}

func (f *fakeEB) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if got := r.Header.Get("X-Amz-Target"); got != "AWSEvents.PutEvents" {
		f.t.Errorf("X-Amz-Target %q", got)
	}
	if got := r.Header.Get("Content-Type"); got != "application/x-amz-json-1.1" {
		f.t.Errorf("Content-Type %q", got)
	}
	var in struct{ Entries []entry }
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		f.t.Errorf("decode request: %v", err)
	}
	if n := len(in.Entries); n < 1 || n > 10 {
		f.t.Errorf("PutEvents with %d entries", n)
	}
	f.mu.Lock()
	call := len(f.calls)
	f.calls = append(f.calls, in.Entries)
	f.mu.Unlock()
	type result struct {
		EventID      string `json:"EventId,omitempty"`
		ErrorCode    string `json:"ErrorCode,omitempty"`
		ErrorMessage string `json:"ErrorMessage,omitempty"`
	}
	out := struct {
		FailedEntryCount int
		Entries          []result
	}{}
	for i, e := range in.Entries {
		code, msg := "", ""
		if f.failures != nil {
			code, msg = f.failures(call, e)
		}
		if code != "" {
			out.FailedEntryCount++
			out.Entries = append(out.Entries, result{ErrorCode: code, ErrorMessage: msg})
			continue
		}
		out.Entries = append(out.Entries, result{EventID: fmt.Sprintf("11710aed-b79e-4468-a20b-bb3c0c3b%04d", call*10+i)})
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	json.NewEncoder(w).Encode(out)
}

func start(t *testing.T, f *fakeEB) *ebbus.Bus {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &httptest.Server{Listener: l, Config: &http.Server{Handler: f}}
	srv.Start()
	t.Cleanup(srv.Close)
	cfg, err := awstest.Config(context.Background(), srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	return ebbus.New(ebbus.NewClient(cfg), ebbus.Options{BusName: "elt-bus", Sleep: func(context.Context, time.Duration) error { return nil }})
}

func events(n int) []bus.Event {
	out := make([]bus.Event, n)
	for i := range out {
		out[i] = bus.Event{Source: bus.Source, DetailType: bus.DetailTypePartitionReady,
			Detail: json.RawMessage(fmt.Sprintf(`{"dt":"2026-01-%02d"}`, i%28+1)), Time: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
			Resources: []string{fmt.Sprintf("s3://silver/silver/shipments/dt=%d/", i)}}
	}
	return out
}

func TestPutBatchesOfTen(t *testing.T) {
	f := &fakeEB{t: t}
	b := start(t, f)
	if err := b.Put(context.Background(), events(23)); err != nil {
		t.Fatal(err)
	}
	if len(f.calls) != 3 || len(f.calls[0]) != 10 || len(f.calls[1]) != 10 || len(f.calls[2]) != 3 {
		t.Fatalf("calls of %d entries", len(f.calls))
	}
	e := f.calls[2][2]
	if e.Source != bus.Source || e.DetailType != bus.DetailTypePartitionReady || e.EventBusName != "elt-bus" ||
		e.Detail != `{"dt":"2026-01-23"}` || len(e.Resources) != 1 || e.Time == nil || int64(*e.Time) != 1767323045 {
		t.Errorf("entry 22 sent as %+v", e)
	}
}

// TestRetriesOnlyFailedEntries: per-entry failures (FailedEntryCount > 0 in
// a 200 reply) are re-sent alone until they succeed.
func TestRetriesOnlyFailedEntries(t *testing.T) {
	f := &fakeEB{t: t, failures: func(call int, e entry) (string, string) {
		if call < 2 && (e.Detail == `{"dt":"2026-01-02"}` || e.Detail == `{"dt":"2026-01-05"}`) {
			return "ThrottlingException", "Rate exceeded"
		}
		return "", ""
	}}
	b := start(t, f)
	if err := b.Put(context.Background(), events(6)); err != nil {
		t.Fatal(err)
	}
	if len(f.calls) != 3 || len(f.calls[1]) != 2 || len(f.calls[2]) != 2 {
		t.Fatalf("call sizes: %d calls %v", len(f.calls), f.calls)
	}
	if f.calls[1][0].Detail != `{"dt":"2026-01-02"}` || f.calls[1][1].Detail != `{"dt":"2026-01-05"}` {
		t.Errorf("retried %+v, want entries 1 and 4", f.calls[1])
	}
}

func TestPersistentFailureIsAnError(t *testing.T) {
	f := &fakeEB{t: t, failures: func(int, entry) (string, string) {
		return "InternalFailure", "Internal Service Failure"
	}}
	b := start(t, f)
	err := b.Put(context.Background(), events(3))
	if !fault.Is(err, fault.Transient) {
		t.Fatalf("Put: %v, want a Transient fault", err)
	}
	if len(f.calls) != ebbus.DefaultAttempts {
		t.Errorf("%d calls, want %d attempts", len(f.calls), ebbus.DefaultAttempts)
	}
}
