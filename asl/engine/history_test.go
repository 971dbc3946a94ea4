package engine

import (
	"context"
	"encoding/json"
	"testing"
)

// Event ids count up from 1; each event's previousEventId is the event
// that led to it on its own path, so the events of a Parallel branch
// chain back to ParallelStateStarted (GetExecutionHistory semantics).
func TestHistoryIdsAndDetails(t *testing.T) {
	e := New(Options{})
	m := mustCompile(t, `{"StartAt":"P","States":{"P":{"Type":"Parallel","Next":"T","Branches":[
		{"StartAt":"A","States":{"A":{"Type":"Pass","End":true}}},
		{"StartAt":"B","States":{"B":{"Type":"Pass","End":true}}}]},
		"T":{"Type":"Task","Resource":"arn:aws:states:::aws-sdk:s3:getObject","Parameters":{"Bucket":"b","Key":"k"},"End":true}}}`)
	x := execute(t, e, m, `{}`)
	if x.Status != StatusFailed || x.Error != ErrRuntime {
		t.Fatalf("%+v", x) // no object store configured: States.Runtime
	}
	evs, err := e.Store().History(context.Background(), x.ExecutionArn)
	if err != nil {
		t.Fatal(err)
	}
	byID := map[int64]Event{}
	var started int64
	for i, ev := range evs {
		if ev.ID != int64(i+1) {
			t.Fatalf("event %d has id %d", i, ev.ID)
		}
		if ev.PreviousEventID >= ev.ID {
			t.Fatalf("event %d points forward to %d", ev.ID, ev.PreviousEventID)
		}
		byID[ev.ID] = ev
		if ev.Type == "ParallelStateStarted" {
			started = ev.ID
		}
	}
	for _, ev := range evs {
		if ev.Type == "PassStateEntered" && ev.PreviousEventID != started {
			t.Errorf("branch state %v entered after event %d, want ParallelStateStarted %d", ev.Details["name"], ev.PreviousEventID, started)
		}
		if ev.Type == "TaskFailed" {
			if ev.DetailsKey != "taskFailedEventDetails" || ev.Details["resourceType"] != "aws-sdk:s3" || ev.Details["resource"] != "getObject" || ev.Details["error"] != ErrRuntime {
				t.Errorf("TaskFailed %+v", ev)
			}
			if byID[ev.PreviousEventID].Type != "TaskStarted" {
				t.Errorf("TaskFailed follows %s", byID[ev.PreviousEventID].Type)
			}
		}
		if ev.Type == "TaskScheduled" && ev.Details["parameters"] != `{"Bucket":"b","Key":"k"}` {
			t.Errorf("TaskScheduled parameters %v", ev.Details["parameters"])
		}
	}
	// Round trip through the JSON the file store writes.
	for _, ev := range evs {
		b, err := json.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		var back Event
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatal(err)
		}
		if back.ID != ev.ID || back.Type != ev.Type || back.DetailsKey != ev.DetailsKey || !back.Timestamp.Equal(ev.Timestamp) {
			t.Fatalf("round trip %+v -> %+v", ev, back)
		}
	}
}

// The Standard workflow quotas: 25,000 history events and one year of
// run time end runaway loops instead of letting them spin.
func TestExecutionQuotas(t *testing.T) {
	loop := mustCompile(t, `{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"B"},"B":{"Type":"Choice","Choices":[{"Variable":"$.stop","IsPresent":true,"Next":"Done"}],"Default":"A"},"Done":{"Type":"Succeed"}}}`)
	e := New(Options{MaxHistoryEvents: 1000})
	x := execute(t, e, loop, `{}`)
	if x.Status != StatusFailed || x.Error != ErrRuntime {
		t.Fatalf("%+v", x)
	}
	evs, _ := e.Store().History(context.Background(), x.ExecutionArn)
	if len(evs) != 1001 || evs[1000].Type != "ExecutionFailed" {
		t.Fatalf("%d events, last %s", len(evs), evs[len(evs)-1].Type)
	}
	poll := mustCompile(t, `{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":86400,"Next":"W2"},"W2":{"Type":"Pass","Next":"W"}}}`)
	x = execute(t, New(Options{}), poll, `{}`)
	if x.Status != StatusTimedOut || x.StopDate.Sub(x.StartDate) != MaxExecutionTime {
		t.Fatalf("%s after %v", x.Status, x.StopDate.Sub(x.StartDate))
	}
}
