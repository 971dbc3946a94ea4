package mockconfig

import (
	"encoding/json"
	"strings"
	"testing"
)

// The example file of "Mock configuration file" in the AWS developer guide
// (sfn-local-mock-cfg-file).
func TestAWSExampleFile(t *testing.T) {
	c, err := Load("testdata/aws-example.json")
	if err != nil {
		t.Fatal(err)
	}
	tc, err := c.TestCase("LambdaSQSIntegration", "RetryPath")
	if err != nil {
		t.Fatal(err)
	}
	if tc["LambdaState"] != "MockedLambdaRetry" || tc["SQSState"] != "MockedSQSSuccess" {
		t.Fatalf("RetryPath = %v", tc)
	}
	want := []string{"Lambda.ResourceNotReadyException", "Lambda.TimeoutException", "Lambda.TimeoutException", "", ""}
	for i, w := range want {
		out, err := c.Response("MockedLambdaRetry", i)
		if err != nil {
			t.Fatalf("invocation %d: %v", i, err)
		}
		got := ""
		if out.Throw != nil {
			got = out.Throw.Error
		}
		if got != w {
			t.Errorf("invocation %d throws %q, want %q", i, got, w)
		}
		if w == "" {
			b, _ := json.Marshal(out.Return)
			if !strings.Contains(string(b), `"body":"Hello from Lambda!"`) {
				t.Errorf("invocation %d returns %s", i, b)
			}
		}
	}
	if _, err := c.TestCase("LambdaSQSIntegration", "Nope"); err == nil {
		t.Error("unknown test case accepted")
	}
	if _, err := c.TestCase("Nope", "HappyPath"); err == nil {
		t.Error("unknown state machine accepted")
	}
}

func TestParseRejects(t *testing.T) {
	cases := map[string]string{
		"bad key":          `{"MockedResponses":{"A":{"x":{"Return":1}}}}`,
		"backwards range":  `{"MockedResponses":{"A":{"3-1":{"Return":1}}}}`,
		"overlap":          `{"MockedResponses":{"A":{"0-2":{"Return":1},"2":{"Return":2}}}}`,
		"both":             `{"MockedResponses":{"A":{"0":{"Return":1,"Throw":{"Error":"E"}}}}}`,
		"neither":          `{"MockedResponses":{"A":{"0":{}}}}`,
		"throw no error":   `{"MockedResponses":{"A":{"0":{"Throw":{"Cause":"c"}}}}}`,
		"unknown response": `{"StateMachines":{"M":{"TestCases":{"T":{"S":"Missing"}}}},"MockedResponses":{}}`,
		"not json":         `{`,
	}
	for name, doc := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := Parse([]byte(doc)); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}

func TestReturnNullAndGap(t *testing.T) {
	c, err := Parse([]byte(`{"MockedResponses":{"A":{"0":{"Return":null},"2":{"Return":{"n":12345678901234567890}}}}}`))
	if err != nil {
		t.Fatal(err)
	}
	if out, err := c.Response("A", 0); err != nil || out.Throw != nil || out.Return != nil {
		t.Fatalf("0: %v %v", out, err)
	}
	if _, err := c.Response("A", 1); err == nil {
		t.Fatal("gap invocation answered")
	}
	out, _ := c.Response("A", 2)
	b, _ := json.Marshal(out.Return)
	if string(b) != `{"n":12345678901234567890}` {
		t.Fatalf("large number not exact: %s", b)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(`{"MockedResponses":{"A":{"0":{"Return":1},"1-3":{"Throw":{"Error":"E","Cause":"c"}}}}}`))
	f.Add([]byte(`{"StateMachines":{"M":{"TestCases":{"T":{"S":"A"}}}},"MockedResponses":{"A":{"0":{"Return":null}}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse(data)
		if err != nil {
			return
		}
		for name := range c.MockedResponses {
			for i := 0; i < 4; i++ {
				c.Response(name, i)
			}
		}
	})
}
