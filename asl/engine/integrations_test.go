package engine

import (
	"context"
	"encoding/json"
	"io"
	"strings"
	"sync"
	"testing"

	"github.com/serverless-elt/elt/internal/bus"
	"github.com/serverless-elt/elt/internal/objstore"
	"github.com/serverless-elt/elt/internal/objstore/fsstore"
)

type recordingNotifier struct {
	mu   sync.Mutex
	msgs []string
}

func (n *recordingNotifier) Publish(_ context.Context, subject, message string) (string, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.msgs = append(n.msgs, subject+"|"+message)
	return "msg-1", nil
}

type recordingBus struct {
	mu     sync.Mutex
	events []bus.Event
}

func (b *recordingBus) Put(_ context.Context, evs []bus.Event) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.events = append(b.events, evs...)
	return nil
}

func newObjects(t *testing.T) objstore.Store {
	s, err := fsstore.New(t.TempDir(), fsstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func putText(t *testing.T, s objstore.Store, bucket, key, text string) {
	t.Helper()
	if _, err := s.Put(context.Background(), bucket, key, strings.NewReader(text), nil); err != nil {
		t.Fatal(err)
	}
}

func getText(t *testing.T, s objstore.Store, bucket, key string) string {
	t.Helper()
	rc, _, err := s.Get(context.Background(), bucket, key, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, _ := io.ReadAll(rc)
	return string(b)
}

// s3 putObject/getObject/listObjectsV2, sns:publish and events:putEvents
// bound to the embedded backends.
func TestServiceIntegrations(t *testing.T) {
	objs := newObjects(t)
	n := &recordingNotifier{}
	b := &recordingBus{}
	e := New(Options{Services: Services{Objects: objs, Notifier: n, Bus: b}})
	m := mustCompile(t, `{"StartAt":"Put","States":{
		"Put":{"Type":"Task","Resource":"arn:aws:states:::aws-sdk:s3:putObject","Parameters":{"Bucket":"b","Key":"out/x.json","Body.$":"$.doc"},"ResultPath":"$.put","Next":"Get"},
		"Get":{"Type":"Task","Resource":"arn:aws:states:::aws-sdk:s3:getObject","Parameters":{"Bucket":"b","Key":"out/x.json"},"ResultSelector":{"body.$":"States.StringToJson($.Body)"},"ResultPath":"$.got","Next":"List"},
		"List":{"Type":"Task","Resource":"arn:aws:states:::aws-sdk:s3:listObjectsV2","Parameters":{"Bucket":"b","Prefix":"out/"},"ResultSelector":{"keys.$":"$.Contents[*].Key","n.$":"$.KeyCount"},"ResultPath":"$.list","Next":"Notify"},
		"Notify":{"Type":"Task","Resource":"arn:aws:states:::sns:publish","Parameters":{"TopicArn":"${topic}","Subject":"s","Message.$":"$.got.body"},"ResultPath":"$.sns","Next":"Emit"},
		"Emit":{"Type":"Task","Resource":"arn:aws:states:::events:putEvents","Parameters":{"Entries":[{"Source":"elt.pipeline","DetailType":"PartitionReady","Detail":{"dt.$":"$.doc.dt"}}]},"ResultSelector":{"failed.$":"$.FailedEntryCount"},"ResultPath":"$.events","End":true}}}`)
	x := execute(t, e, m, `{"doc":{"dt":"2024-01-01","rows":3}}`)
	if x.Status != StatusSucceeded {
		t.Fatalf("%+v", x)
	}
	var out map[string]any
	json.Unmarshal([]byte(*x.Output), &out)
	if got := jsonText(out["got"]); got != `{"body":{"dt":"2024-01-01","rows":3}}` {
		t.Errorf("got %s", got)
	}
	if got := jsonText(out["list"]); got != `{"keys":["out/x.json"],"n":1}` {
		t.Errorf("list %s", got)
	}
	if !strings.HasPrefix(jsonText(out["put"]), `{"ETag":"\"`) {
		t.Errorf("put %s", jsonText(out["put"]))
	}
	if jsonText(out["sns"]) != `{"MessageId":"msg-1"}` || len(n.msgs) != 1 || n.msgs[0] != `s|{"dt":"2024-01-01","rows":3}` {
		t.Errorf("sns %s %v", jsonText(out["sns"]), n.msgs)
	}
	if jsonText(out["events"]) != `{"failed":0}` || len(b.events) != 1 || string(b.events[0].Detail) != `{"dt":"2024-01-01"}` || b.events[0].DetailType != "PartitionReady" {
		t.Errorf("events %s %+v", jsonText(out["events"]), b.events)
	}
	if getText(t, objs, "b", "out/x.json") != `{"dt":"2024-01-01","rows":3}` {
		t.Error("object not written")
	}
	// A missing key is S3.NoSuchKey, which Catch can match.
	miss := mustCompile(t, `{"StartAt":"Get","States":{"Get":{"Type":"Task","Resource":"arn:aws:states:::aws-sdk:s3:getObject","Parameters":{"Bucket":"b","Key":"nope"},
		"Catch":[{"ErrorEquals":["S3.NoSuchKey"],"Next":"Missing"}],"End":true},"Missing":{"Type":"Pass","Result":"missing","End":true}}}`)
	if x := execute(t, e, miss, `{}`); x.Status != StatusSucceeded || *x.Output != `"missing"` {
		t.Errorf("missing key: %+v", x)
	}
}

// states:startExecution.sync:2 runs a registered child state machine and
// returns its output as JSON; a failed child fails the task.
func TestStartExecutionSync(t *testing.T) {
	e := New(Options{})
	ctx := context.Background()
	child := `{"StartAt":"C","States":{"C":{"Type":"Choice","Choices":[{"Variable":"$.fail","BooleanEquals":true,"Next":"F"}],"Default":"P"},
		"P":{"Type":"Pass","Parameters":{"doubled.$":"States.MathAdd($.n, $.n)"},"End":true},"F":{"Type":"Fail","Error":"ChildFailed","Cause":"asked to"}}}`
	if err := e.Store().PutStateMachine(ctx, StateMachineRecord{StateMachineArn: StateMachineArn("child"), Name: "child", Definition: child}); err != nil {
		t.Fatal(err)
	}
	parent := mustCompile(t, `{"StartAt":"Run","States":{"Run":{"Type":"Task","Resource":"arn:aws:states:::states:startExecution.sync:2",
		"Parameters":{"StateMachineArn":"arn:aws:states:us-east-1:000000000000:stateMachine:child","Input.$":"$"},
		"ResultSelector":{"out.$":"$.Output","status.$":"$.Status"},"Catch":[{"ErrorEquals":["States.TaskFailed"],"Next":"Failed"}],"End":true},
		"Failed":{"Type":"Pass","Parameters":{"error.$":"$.Error","cause.$":"$.Cause"},"End":true}}}`)
	x := execute(t, e, parent, `{"n":21,"fail":false}`)
	if x.Status != StatusSucceeded || *x.Output != `{"out":{"doubled":42},"status":"SUCCEEDED"}` {
		t.Fatalf("%+v %s", x, *x.Output)
	}
	x = execute(t, e, parent, `{"n":1,"fail":true}`)
	if x.Status != StatusSucceeded || !strings.HasPrefix(*x.Output, `{"cause":"{\"Cause\":\"asked to\",\"Error\":\"ChildFailed\"`) {
		t.Fatalf("failed child: %+v", x)
	}
	list, _ := e.Store().ListExecutions(ctx, StateMachineArn("child"))
	if len(list) != 2 {
		t.Fatalf("%d child executions", len(list))
	}
}

// Distributed Map: ItemReader over the object store in each format,
// ItemBatcher, ResultWriter and the tolerated failure thresholds.
func TestDistributedMap(t *testing.T) {
	objs := newObjects(t)
	putText(t, objs, "in", "items.json", `[{"id":1},{"id":2},{"id":3}]`)
	putText(t, objs, "in", "items.jsonl", "{\"id\":1}\n{\"id\":2}\n\n{\"id\":3}\n")
	putText(t, objs, "in", "items.csv", "id,name\n1,a\n2,\"b, c\"\n3,d\n")
	putText(t, objs, "in", "noheader.csv", "1,a\n2,b\n")
	putText(t, objs, "in", "list/a.json", "{}")
	putText(t, objs, "in", "list/b.json", "{}")
	e := New(Options{Services: Services{Objects: objs}})
	def := func(reader, extra string) *Machine {
		return mustCompile(t, `{"StartAt":"M","States":{"M":{"Type":"Map",`+reader+extra+`
			"ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED","ExecutionType":"EXPRESS"},"StartAt":"C","States":{
				"C":{"Type":"Choice","Choices":[{"And":[{"Variable":"$.id","IsPresent":true},{"Variable":"$.id","StringEquals":"2"}],"Next":"F"}],"Default":"P"},
				"F":{"Type":"Fail","Error":"BadItem","Cause":"item 2"},
				"P":{"Type":"Pass","End":true}}},"End":true}}}`)
	}
	jsonReader := `"ItemReader":{"Resource":"arn:aws:states:::s3:getObject","ReaderConfig":{"InputType":"JSON"},"Parameters":{"Bucket":"in","Key":"items.json"}},`
	cases := []struct {
		name, reader, extra, input, status, output, errName string
	}{
		{"json", jsonReader, "", `{}`, StatusSucceeded, `[{"id":1},{"id":2},{"id":3}]`, ""},
		{"jsonl", `"ItemReader":{"Resource":"arn:aws:states:::s3:getObject","ReaderConfig":{"InputType":"JSONL"},"Parameters":{"Bucket":"in","Key":"items.jsonl"}},`, "", `{}`, StatusSucceeded, `[{"id":1},{"id":2},{"id":3}]`, ""},
		{"csv header row fails item 2 with default zero tolerance", `"ItemReader":{"Resource":"arn:aws:states:::s3:getObject","ReaderConfig":{"InputType":"CSV","CSVHeaderLocation":"FIRST_ROW"},"Parameters":{"Bucket":"in","Key":"items.csv"}},`, "", `{}`, StatusFailed, "", "States.ExceedToleratedFailureThreshold"},
		{"csv tolerated count", `"ItemReader":{"Resource":"arn:aws:states:::s3:getObject","ReaderConfig":{"InputType":"CSV","CSVHeaderLocation":"FIRST_ROW"},"Parameters":{"Bucket":"in","Key":"items.csv"}},`, `"ToleratedFailureCount":1,`, `{}`, StatusSucceeded, `[{"id":"1","name":"a"},{"Cause":"item 2","Error":"BadItem"},{"id":"3","name":"d"}]`, ""},
		{"csv tolerated percentage too low", `"ItemReader":{"Resource":"arn:aws:states:::s3:getObject","ReaderConfig":{"InputType":"CSV"},"Parameters":{"Bucket":"in","Key":"items.csv"}},`, `"ToleratedFailurePercentage":30,`, `{}`, StatusFailed, "", "States.ExceedToleratedFailureThreshold"},
		{"csv tolerated percentage from path", `"ItemReader":{"Resource":"arn:aws:states:::s3:getObject","ReaderConfig":{"InputType":"CSV"},"Parameters":{"Bucket":"in","Key":"items.csv"}},`, `"ToleratedFailurePercentagePath":"$.pct",`, `{"pct":34}`, StatusSucceeded, "", ""},
		{"csv given headers and MaxItems", `"ItemReader":{"Resource":"arn:aws:states:::s3:getObject","ReaderConfig":{"InputType":"CSV","CSVHeaderLocation":"GIVEN","CSVHeaders":["id","letter"],"MaxItems":1},"Parameters":{"Bucket":"in","Key":"noheader.csv"}},`, "", `{}`, StatusSucceeded, `[{"id":"1","letter":"a"}]`, ""},
		{"listing", `"ItemReader":{"Resource":"arn:aws:states:::s3:listObjectsV2","Parameters":{"Bucket":"in","Prefix":"list/"}},"ItemSelector":{"key.$":"$$.Map.Item.Value.Key"},`, "", `{}`, StatusSucceeded, `[{"key":"list/a.json"},{"key":"list/b.json"}]`, ""},
		{"batched", jsonReader, `"ItemBatcher":{"MaxItemsPerBatch":2,"BatchInput":{"run.$":"$.run"}},`, `{"run":"r1"}`, StatusSucceeded, `[{"BatchInput":{"run":"r1"},"Items":[{"id":1},{"id":2}]},{"BatchInput":{"run":"r1"},"Items":[{"id":3}]}]`, ""},
		{"missing object", `"ItemReader":{"Resource":"arn:aws:states:::s3:getObject","ReaderConfig":{"InputType":"JSON"},"Parameters":{"Bucket":"in","Key":"nope.json"}},`, "", `{}`, StatusFailed, "", "States.ItemReaderFailed"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			x := execute(t, e, def(c.reader, c.extra), c.input)
			if x.Status != c.status {
				t.Fatalf("status %s %s %s", x.Status, x.Error, x.Cause)
			}
			if c.output != "" && *x.Output != c.output {
				t.Errorf("output %s\nwant %s", *x.Output, c.output)
			}
			if c.errName != "" && x.Error != c.errName {
				t.Errorf("error %s (%s), want %s", x.Error, x.Cause, c.errName)
			}
		})
	}

	t.Run("ResultWriter", func(t *testing.T) {
		m := def(`"ItemReader":{"Resource":"arn:aws:states:::s3:getObject","ReaderConfig":{"InputType":"CSV"},"Parameters":{"Bucket":"in","Key":"items.csv"}},`,
			`"ToleratedFailureCount":1,"ResultWriter":{"Resource":"arn:aws:states:::s3:putObject","Parameters":{"Bucket":"out","Prefix":"runs"}},`)
		x := execute(t, e, m, `{}`)
		if x.Status != StatusSucceeded {
			t.Fatalf("%+v", x)
		}
		var out struct {
			MapRunArn           string
			ResultWriterDetails struct{ Bucket, Key string }
		}
		json.Unmarshal([]byte(*x.Output), &out)
		if out.ResultWriterDetails.Bucket != "out" || !strings.HasPrefix(out.ResultWriterDetails.Key, "runs/") || !strings.HasSuffix(out.ResultWriterDetails.Key, "/manifest.json") {
			t.Fatalf("output %s", *x.Output)
		}
		var manifest struct {
			DestinationBucket string
			MapRunArn         string
			ResultFiles       map[string][]struct {
				Key  string
				Size int64
			}
		}
		if err := json.Unmarshal([]byte(getText(t, objs, "out", out.ResultWriterDetails.Key)), &manifest); err != nil {
			t.Fatal(err)
		}
		if manifest.MapRunArn != out.MapRunArn || len(manifest.ResultFiles["SUCCEEDED"]) != 1 || len(manifest.ResultFiles["FAILED"]) != 1 {
			t.Fatalf("manifest %+v", manifest)
		}
		var ok, failed []map[string]any
		json.Unmarshal([]byte(getText(t, objs, "out", manifest.ResultFiles["SUCCEEDED"][0].Key)), &ok)
		json.Unmarshal([]byte(getText(t, objs, "out", manifest.ResultFiles["FAILED"][0].Key)), &failed)
		if len(ok) != 2 || ok[0]["Status"] != "SUCCEEDED" || ok[0]["Output"] != `{"id":"1","name":"a"}` {
			t.Errorf("succeeded %v", ok)
		}
		if len(failed) != 1 || failed[0]["Error"] != "BadItem" || failed[0]["Input"] != `{"id":"2","name":"b, c"}` {
			t.Errorf("failed %v", failed)
		}
		types := eventTypes(t, e, x.ExecutionArn)
		if !contains(types, "MapRunStarted") || !contains(types, "MapRunSucceeded") || contains(types, "PassStateEntered") {
			t.Errorf("events %v", types)
		}
	})
}

// Each item of a distributed Map is a child workflow execution of
// "MACHINE/LABEL" with its own history and context object, persisted
// like any execution and named in the ResultWriter records.
func TestDistributedMapChildExecutions(t *testing.T) {
	objs := newObjects(t)
	putText(t, objs, "in", "items.json", `[{"id":1},{"id":2}]`)
	store := &FileStore{Dir: t.TempDir()}
	e := New(Options{Services: Services{Objects: objs}, Store: store})
	m := mustCompile(t, `{"StartAt":"Fan out","States":{"Fan out":{"Type":"Map","Label":"Items",
		"ItemReader":{"Resource":"arn:aws:states:::s3:getObject","ReaderConfig":{"InputType":"JSON"},"Parameters":{"Bucket":"in","Key":"items.json"}},
		"ResultWriter":{"Resource":"arn:aws:states:::s3:putObject","Parameters":{"Bucket":"out","Prefix":"runs"}},
		"ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED","ExecutionType":"STANDARD"},"StartAt":"Who","States":{
			"Who":{"Type":"Pass","Parameters":{"id.$":"$.id","execution.$":"$$.Execution.Id","machine.$":"$$.StateMachine.Name"},"End":true}}},"End":true}}}`)
	x, err := e.Execute(context.Background(), StartInput{Machine: m, StateMachineName: "parent", Name: "p1"})
	if err != nil || x.Status != StatusSucceeded {
		t.Fatalf("%v %+v", err, x)
	}
	children, err := store.ListExecutions(context.Background(), StateMachineArn("parent/Items"))
	if err != nil || len(children) != 2 {
		t.Fatalf("children %v %+v", err, children)
	}
	for _, c := range children {
		if c.Status != StatusSucceeded || c.Output == nil || !strings.Contains(*c.Output, `"execution":"`+c.ExecutionArn+`"`) || !strings.Contains(*c.Output, `"machine":"parent/Items"`) {
			t.Errorf("child %+v %s", c, *c.Output)
		}
		evs, err := store.History(context.Background(), c.ExecutionArn)
		if err != nil || len(evs) != 4 || evs[0].Type != "ExecutionStarted" || evs[3].Type != "ExecutionSucceeded" {
			t.Errorf("child history %v %+v", err, evs)
		}
	}
	parents, _ := store.ListExecutions(context.Background(), StateMachineArn("parent"))
	if len(parents) != 1 {
		t.Fatalf("the children's directory was listed as an execution: %+v", parents)
	}
	var out struct{ ResultWriterDetails struct{ Bucket, Key string } }
	json.Unmarshal([]byte(*x.Output), &out)
	var manifest struct {
		ResultFiles map[string][]struct{ Key string }
	}
	json.Unmarshal([]byte(getText(t, objs, "out", out.ResultWriterDetails.Key)), &manifest)
	var recs []map[string]any
	json.Unmarshal([]byte(getText(t, objs, "out", manifest.ResultFiles["SUCCEEDED"][0].Key)), &recs)
	if len(recs) != 2 || recs[0]["ExecutionArn"] != children[0].ExecutionArn && recs[0]["ExecutionArn"] != children[1].ExecutionArn {
		t.Fatalf("result records %v", recs)
	}
}
