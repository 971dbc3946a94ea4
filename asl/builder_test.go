package asl

import (
	"bytes"
	"strings"
	"testing"
)

func mustEncode(t *testing.T, sm *StateMachine) string {
	t.Helper()
	out, err := Encode(sm)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// TestBuilderStates checks each state builder's JSON, table-driven: the
// whole machine is one state plus a Succeed "Done" to point at.
func TestBuilderStates(t *testing.T) {
	tests := []struct {
		name  string
		state StateBuilder
		want  string // the encoded state, compact
	}{
		{"task lambda", Task("T").Resource(LambdaInvoke("${fn}", Ref("$"))).
			ResultSelector(Obj("Payload", Ref("$.Payload"))).ResultPath("$.r").
			Retry(RetryOn("Lambda.ServiceException").Interval(2).Attempts(6).Backoff(2).MaxDelay(30).Jitter()).
			Catch(CatchAll().ResultPath("$.error").Next("Done")).TimeoutSeconds(60).Next("Done"),
			`{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{"FunctionName":"${fn}","Payload.$":"$"},"ResultSelector":{"Payload.$":"$.Payload"},"ResultPath":"$.r","TimeoutSeconds":60,"Retry":[{"ErrorEquals":["Lambda.ServiceException"],"IntervalSeconds":2,"MaxAttempts":6,"BackoffRate":2,"MaxDelaySeconds":30,"JitterStrategy":"FULL"}],"Catch":[{"ErrorEquals":["States.ALL"],"ResultPath":"$.error","Next":"Done"}],"Next":"Done"}`},
		{"task callback sqs", Task("T").Resource(SQSSendMessage("${queue_url}", Obj("token", Ref(TaskTokenContextPath))).WaitForTaskToken()).HeartbeatSeconds(60).End(),
			`{"Type":"Task","Resource":"arn:aws:states:::sqs:sendMessage.waitForTaskToken","Parameters":{"QueueUrl":"${queue_url}","MessageBody":{"token.$":"$$.Task.Token"}},"HeartbeatSeconds":60,"End":true}`},
		{"task glue sync", Task("T").Resource(GlueStartJobRunSync("${job}", Obj("--type", Ref("$.t")))).DiscardResult().End(),
			`{"Type":"Task","Resource":"arn:aws:states:::glue:startJobRun.sync","Parameters":{"JobName":"${job}","Arguments":{"--type.$":"$.t"}},"ResultPath":null,"End":true}`},
		{"task glue no args", Task("T").Resource(GlueStartJobRun("j", nil)).End(),
			`{"Type":"Task","Resource":"arn:aws:states:::glue:startJobRun","Parameters":{"JobName":"j"},"End":true}`},
		{"task startExecution sync2", Task("T").Resource(StartExecutionSync2("${sm}", Obj("AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID", Ref(ExecutionIDContextPath)))).End(),
			`{"Type":"Task","Resource":"arn:aws:states:::states:startExecution.sync:2","Parameters":{"StateMachineArn":"${sm}","Input":{"AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID.$":"$$.Execution.Id"}},"End":true}`},
		{"task startExecution", Task("T").Resource(StartExecution("${sm}", Ref("$"))).End(),
			`{"Type":"Task","Resource":"arn:aws:states:::states:startExecution","Parameters":{"StateMachineArn":"${sm}","Input.$":"$"},"End":true}`},
		{"task sns", Task("T").Resource(SNSPublish("${topic}", Format("failed: {}", Ref("$.error.Cause")))).End(),
			`{"Type":"Task","Resource":"arn:aws:states:::sns:publish","Parameters":{"TopicArn":"${topic}","Message.$":"States.Format('failed: {}', $.error.Cause)"},"End":true}`},
		{"task sns subject", Task("T").Resource(SNSPublishWithSubject("${topic}", "s", "m")).End(),
			`{"Type":"Task","Resource":"arn:aws:states:::sns:publish","Parameters":{"TopicArn":"${topic}","Subject":"s","Message":"m"},"End":true}`},
		{"task s3 sdk", Task("T").Resource(S3PutObject("${bucket}", Ref("$.key"), Ref("$.body"))).End(),
			`{"Type":"Task","Resource":"arn:aws:states:::aws-sdk:s3:putObject","Parameters":{"Bucket":"${bucket}","Key.$":"$.key","Body.$":"$.body"},"End":true}`},
		{"task s3 get", Task("T").Resource(S3GetObject("b", "k")).End(),
			`{"Type":"Task","Resource":"arn:aws:states:::aws-sdk:s3:getObject","Parameters":{"Bucket":"b","Key":"k"},"End":true}`},
		{"task s3 list", Task("T").Resource(S3ListObjectsV2("b", "p/")).End(),
			`{"Type":"Task","Resource":"arn:aws:states:::aws-sdk:s3:listObjectsV2","Parameters":{"Bucket":"b","Prefix":"p/"},"End":true}`},
		{"task events", Task("T").Resource(EventsPutEvents(Arr(Obj("Source", "elt", "Detail", Ref("$")))).WaitForTaskToken()).End(),
			`{"Type":"Task","Resource":"arn:aws:states:::events:putEvents.waitForTaskToken","Parameters":{"Entries":[{"Source":"elt","Detail.$":"$"}]},"End":true}`},
		{"task raw arn credentials", Task("T").ResourceARN("arn:aws:states:us-east-1:123456789012:activity:a").Credentials(Obj("RoleArn", "${role}")).HeartbeatSecondsPath("$.h").TimeoutSecondsPath("$.t").End(),
			`{"Type":"Task","Resource":"arn:aws:states:us-east-1:123456789012:activity:a","Credentials":{"RoleArn":"${role}"},"TimeoutSecondsPath":"$.t","HeartbeatSecondsPath":"$.h","End":true}`},
		{"pass", Pass("P").Comment("c").InputPath("$.a").Result(Obj("count", 0)).ResultPath("$.attempt").OutputPath("$").Next("Done"),
			`{"Type":"Pass","Comment":"c","InputPath":"$.a","Result":{"count":0},"ResultPath":"$.attempt","OutputPath":"$","Next":"Done"}`},
		{"pass discard", Pass("P").DiscardInput().DiscardOutput().Assign(Obj("x", 1)).End(),
			`{"Type":"Pass","InputPath":null,"OutputPath":null,"Assign":{"x":1},"End":true}`},
		{"wait seconds", Wait("W").Seconds(0).Next("Done"), `{"Type":"Wait","Seconds":0,"Next":"Done"}`},
		{"wait seconds path", Wait("W").SecondsPath("$.s").Next("Done"), `{"Type":"Wait","SecondsPath":"$.s","Next":"Done"}`},
		{"wait timestamp", Wait("W").Timestamp("2026-01-02T03:04:05Z").End(), `{"Type":"Wait","Timestamp":"2026-01-02T03:04:05Z","End":true}`},
		{"wait timestamp path", Wait("W").TimestampPath("$.t").End(), `{"Type":"Wait","TimestampPath":"$.t","End":true}`},
		{"fail", Fail("F").Comment("c").Error("E").Cause("C"), `{"Type":"Fail","Comment":"c","Error":"E","Cause":"C"}`},
		{"fail paths", Fail("F").ErrorPath("$.error.Error").CausePath("$.error.Cause"), `{"Type":"Fail","ErrorPath":"$.error.Error","CausePath":"$.error.Cause"}`},
		{"choice", Choice("C").
			When(And(IsPresent("$.ok", true), BooleanEquals("$.ok", true)), "Done").
			When(Or(NumericGreaterThanEqualsPath("$.n", "$.max"), Not(StringMatches("$.s", "a*"))), "Done").
			When(TimestampLessThan("$.t", "2026-01-01T00:00:00Z"), "Done").
			When(NumericEquals("$.n", 2.5), "Done").
			Default("Done"),
			`{"Type":"Choice","Choices":[{"And":[{"Variable":"$.ok","IsPresent":true},{"Variable":"$.ok","BooleanEquals":true}],"Next":"Done"},{"Or":[{"Variable":"$.n","NumericGreaterThanEqualsPath":"$.max"},{"Not":{"Variable":"$.s","StringMatches":"a*"}}],"Next":"Done"},{"Variable":"$.t","TimestampLessThan":"2026-01-01T00:00:00Z","Next":"Done"},{"Variable":"$.n","NumericEquals":2.5,"Next":"Done"}],"Default":"Done"}`},
		{"parallel", Parallel("P").Branches(Flow(Pass("A").End()), Flow(Pass("B").Next("C"), Succeed("C")).Comment("two")).
			ResultSelector(Obj("a", Ref("$[0]"))).ResultPath("$.p").Next("Done"),
			`{"Type":"Parallel","Branches":[{"StartAt":"A","States":{"A":{"Type":"Pass","End":true}}},{"Comment":"two","StartAt":"B","States":{"B":{"Type":"Pass","Next":"C"},"C":{"Type":"Succeed"}}}],"ResultSelector":{"a.$":"$[0]"},"ResultPath":"$.p","Next":"Done"}`},
		{"map inline", Map("M").ItemsPath("$.items").ItemSelector(Obj("v", Ref("$$.Map.Item.Value"))).MaxConcurrency(4).
			ItemProcessor(Inline(), Flow(Pass("I").End())).DiscardResult().End(),
			`{"Type":"Map","ItemsPath":"$.items","ItemSelector":{"v.$":"$$.Map.Item.Value"},"MaxConcurrency":4,"ItemProcessor":{"ProcessorConfig":{"Mode":"INLINE"},"StartAt":"I","States":{"I":{"Type":"Pass","End":true}}},"ResultPath":null,"End":true}`},
		{"map legacy", Map("M").Parameters(Obj("i", Ref("$$.Map.Item.Index"))).Iterator(Flow(Pass("I").End())).End(),
			`{"Type":"Map","Parameters":{"i.$":"$$.Map.Item.Index"},"Iterator":{"StartAt":"I","States":{"I":{"Type":"Pass","End":true}}},"End":true}`},
		{"map distributed", Map("M").
			ItemReader(ItemReader{Resource: "arn:aws:states:::s3:getObject", ReaderConfig: &ReaderConfig{InputType: "JSONL", MaxItemsPath: "$.max"}, Parameters: ptr(Obj("Bucket", "${bucket}", "Key", Ref("$.key")))}).
			ItemBatcher(ItemBatcher{MaxItemsPerBatchPath: "$.batch"}).
			ResultWriter(ResultWriter{Resource: "arn:aws:states:::s3:putObject", Parameters: ptr(Obj("Bucket", "${bucket}", "Prefix", "results"))}).
			MaxConcurrencyPath("$.c").ToleratedFailurePercentage(5).ToleratedFailureCountPath("$.f").Label("batch").
			ItemProcessor(Distributed(ExecExpress), Flow(Pass("I").End())).End(),
			`{"Type":"Map","ItemReader":{"Resource":"arn:aws:states:::s3:getObject","ReaderConfig":{"InputType":"JSONL","MaxItemsPath":"$.max"},"Parameters":{"Bucket":"${bucket}","Key.$":"$.key"}},"ItemBatcher":{"MaxItemsPerBatchPath":"$.batch"},"MaxConcurrencyPath":"$.c","ToleratedFailurePercentage":5,"ToleratedFailureCountPath":"$.f","Label":"batch","ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED","ExecutionType":"EXPRESS"},"StartAt":"I","States":{"I":{"Type":"Pass","End":true}}},"ResultWriter":{"Resource":"arn:aws:states:::s3:putObject","Parameters":{"Bucket":"${bucket}","Prefix":"results"}},"End":true}`},
		{"succeed", Succeed("S").OutputPath("$.x"), `{"Type":"Succeed","OutputPath":"$.x"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sm, err := New("t").States(tt.state, Succeed("Done")).Build()
			if err != nil {
				t.Fatalf("Build: %v", err)
			}
			got, err := marshalNoEscape(sm.States.Get(tt.state.State().Name))
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Fatalf("got\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

func TestBuildErrorsListEveryProblem(t *testing.T) {
	_, err := New("bad").States(
		Task("A").Resource(LambdaInvoke("f", Obj(
			"sum", MathAdd(Ref("$.a")),
			"uuid", UUID(1),
			"bad", Call("States.Nope", 1),
			"fmt", Format("x {}", Ref("$.x")),
		))).Next("Missing"),
		Pass("B"),
		Pass("B").End(),
		Wait("W").Timestamp("yesterday").Next("A"),
		Choice("C").When(TimestampEquals("$.t", "not a time"), "A").Default("Nowhere"),
		Task("T").Resource(S3GetObject("b", "k").WaitForTaskToken()).Catch(CatchAll().Next("Gone")).Next("A").End(),
		Parallel("P").Branches(Flow(Pass("X").Next("A"))).End(),
		Pass(strings.Repeat("n", 81)).End(),
	).Build()
	if err == nil {
		t.Fatal("Build succeeded")
	}
	msg := err.Error()
	for _, want := range []string{
		`States.A: Parameters.Payload.sum.$: invalid intrinsic function "States.MathAdd($.a)"`,
		`Payload.uuid.$`,
		`Payload.bad.$`,
		`States.A: Next "Missing" is not a state in this scope`,
		`States.B: needs Next or End`,
		`duplicate state name "B"`,
		`States.W: Timestamp "yesterday" is not an RFC 3339 timestamp`,
		`States.C: Default "Nowhere" is not a state`,
		`Choices[0].TimestampEquals "not a time"`,
		`States: T: resource arn:aws:states:::aws-sdk:s3:getObject does not support .waitForTaskToken`,
		`States.T: Catch[0].Next "Gone" is not a state`,
		`States.T: has both Next and End`,
		`Branches[0].X: Next "A" is not a state in this scope`,
		`is longer than 80 characters`,
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("error lacks %q:\n%s", want, msg)
		}
	}
	if strings.Contains(msg, "fmt.$") {
		t.Errorf("valid Format call reported:\n%s", msg)
	}
}

func TestBuildArityPerFunction(t *testing.T) {
	tests := []struct {
		name string
		expr Expr
		ok   bool
	}{
		{"Format", Format("a {} b {}", Ref("$.a"), Ref("$.b")), true},
		{"Format none", Format(), false},
		{"StringToJson", StringToJson(Ref("$.s")), true},
		{"StringToJson 2", StringToJson(Ref("$.s"), 1), false},
		{"JsonToString", JsonToString(Ref("$.o")), true},
		{"Array", Array(), true},
		{"Array many", Array(1, "two", nil, true, Ref("$.x")), true},
		{"ArrayPartition", ArrayPartition(Ref("$.a"), 4), true},
		{"ArrayPartition 1", ArrayPartition(Ref("$.a")), false},
		{"ArrayContains", ArrayContains(Ref("$.a"), Ref("$.v")), true},
		{"ArrayRange", ArrayRange(1, 9, 2), true},
		{"ArrayRange 2", ArrayRange(1, 9), false},
		{"ArrayGetItem", ArrayGetItem(Ref("$.a"), 0), true},
		{"ArrayLength", ArrayLength(Ref("$.a")), true},
		{"ArrayUnique", ArrayUnique(Ref("$.a")), true},
		{"Base64Encode", Base64Encode("x"), true},
		{"Base64Decode", Base64Decode(Ref("$.b")), true},
		{"Hash", Hash(Ref("$.d"), "SHA-256"), true},
		{"Hash 1", Hash(Ref("$.d")), false},
		{"JsonMerge", JsonMerge(Ref("$.a"), Ref("$.b"), false), true},
		{"MathRandom", MathRandom(1, 10), true},
		{"MathRandom seed", MathRandom(1, 10, 7), true},
		{"MathRandom 4", MathRandom(1, 10, 7, 8), false},
		{"MathAdd", MathAdd(Ref("$.n"), -1), true},
		{"StringSplit", StringSplit(Ref("$.s"), ","), true},
		{"UUID", UUID(), true},
		{"UUID 1", UUID(1), false},
		{"nested", Format("{}", ArrayLength(ArrayUnique(Ref("$.a")))), true},
		{"nested bad", Format("{}", ArrayLength()), false},
		{"quote escaping", Format("it's {}", Ref("$.a")), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New("t").States(Pass("P").Parameters(Obj("v", tt.expr)).End()).Build()
			if (err == nil) != tt.ok {
				t.Fatalf("%s: err = %v, want ok=%v", tt.expr, err, tt.ok)
			}
		})
	}
}

func TestIntrinsicRendering(t *testing.T) {
	if got := Format("it's {} \\ {}", Ref("$.a"), 1.5); got != `States.Format('it\'s {} \\ {}', $.a, 1.5)` {
		t.Fatalf("got %s", got)
	}
	if got := Array(nil, true, "x", Str("y")); got != `States.Array(null, true, 'x', 'y')` {
		t.Fatalf("got %s", got)
	}
}

func TestBuildDeterministic(t *testing.T) {
	build := func() []byte {
		sm, err := New("d").TimeoutSeconds(60).States(
			Pass("A").Parameters(Obj("z", 1, "a", 2, "m", Obj("y", Ref("$.y"), "b", true))).Next("B"),
			Pass("B").Parameters(Obj("from", map[string]any{"q": 1, "c": 2, "k": []any{3, "x"}})).End(),
		).Build()
		if err != nil {
			t.Fatal(err)
		}
		out, err := Encode(sm)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	a, b := build(), build()
	if !bytes.Equal(a, b) {
		t.Fatalf("two builds differ:\n%s\n%s", a, b)
	}
	want := `{
  "Comment": "d",
  "StartAt": "A",
  "States": {
    "A": {
      "Type": "Pass",
      "Parameters": {
        "z": 1,
        "a": 2,
        "m": {
          "y.$": "$.y",
          "b": true
        }
      },
      "Next": "B"
    },
    "B": {
      "Type": "Pass",
      "Parameters": {
        "from": {
          "c": 2,
          "k": [
            3,
            "x"
          ],
          "q": 1
        }
      },
      "End": true
    }
  },
  "TimeoutSeconds": 60
}
`
	if string(a) != want {
		t.Fatalf("got\n%s", a)
	}
}

func TestBuildStartAtAndIndependence(t *testing.T) {
	a := Pass("A").Next("B")
	m := New("s").StartAt("B").States(a, Pass("B").End())
	sm1, err := m.Build()
	if err != nil {
		t.Fatal(err)
	}
	if sm1.StartAt != "B" {
		t.Fatalf("StartAt = %q", sm1.StartAt)
	}
	a.Comment("changed later")
	if sm1.States.Get("A").Comment != "" {
		t.Fatal("built machine shares state with its builder")
	}
	if _, err := New("x").Build(); err == nil || !strings.Contains(err.Error(), "no states") {
		t.Fatalf("err = %v", err)
	}
	if _, err := New("x").StartAt("Z").States(Succeed("A")).Build(); err == nil || !strings.Contains(err.Error(), `StartAt "Z"`) {
		t.Fatalf("err = %v", err)
	}
}

func TestPlaceholders(t *testing.T) {
	sm, err := New("p").States(
		Task("A").Resource(LambdaInvoke("${fn_arn}", Obj("bucket", "${bucket}", "literal", "$${not_a_placeholder}", "again", "${fn_arn}"))).End(),
	).Build()
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(Placeholders(sm), ","); got != "bucket,fn_arn" {
		t.Fatalf("Placeholders = %s", got)
	}
	data, _ := Encode(sm)
	out, err := Substitute(data, map[string]string{"fn_arn": "arn:aws:lambda:us-east-1:123456789012:function:f", "bucket": `we"ird`})
	if err != nil {
		t.Fatal(err)
	}
	s := string(out)
	for _, want := range []string{`"FunctionName": "arn:aws:lambda:us-east-1:123456789012:function:f"`, `"bucket": "we\"ird"`, `"literal": "${not_a_placeholder}"`} {
		if !strings.Contains(s, want) {
			t.Errorf("substituted lacks %s:\n%s", want, s)
		}
	}
	if _, err := Parse(out); err != nil {
		t.Fatalf("substituted document does not parse: %v", err)
	}
	_, err = Substitute(data, map[string]string{"fn_arn": "x"})
	if err == nil || err.Error() != "unbound placeholders: bucket" {
		t.Fatalf("err = %v", err)
	}
	_, err = Substitute([]byte(`"${b} ${a} ${b}"`), nil)
	if err == nil || err.Error() != "unbound placeholders: a, b" {
		t.Fatalf("err = %v", err)
	}
}

func TestObjPanicsOnMisuse(t *testing.T) {
	for name, f := range map[string]func(){
		"odd":     func() { Obj("a") },
		"key":     func() { Obj(1, 2) },
		"badval":  func() { Obj("a", func() {}) },
		"arr bad": func() { Arr(make(chan int)) },
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Fatal("no panic")
				}
			}()
			f()
		})
	}
}
