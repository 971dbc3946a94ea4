package sfnlocal

import (
	"context"
	"net"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/serverless-elt/elt/asl/engine"
)

// StopExecution through the endpoint of one engine stops an execution that
// another engine (another process on the same data dir) runs.
func TestStopExecutionOfAnotherProcess(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	dir := t.TempDir()
	started := make(chan struct{}, 1)
	reg := engine.NewRegistry()
	reg.Register("block", engine.Typed(func(ctx context.Context, in map[string]any) (map[string]any, error) {
		started <- struct{}{}
		<-ctx.Done()
		return nil, ctx.Err()
	}))
	def := `{"StartAt":"Work","States":{"Work":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{"FunctionName":"block"},"End":true}}}`
	runner := engine.New(engine.Options{Tasks: reg, Store: &engine.FileStore{Dir: dir}, Clock: engine.RealClock{}, StopPollInterval: 10 * time.Millisecond})
	if err := runner.Store().PutStateMachine(ctx, engine.StateMachineRecord{StateMachineArn: engine.StateMachineArn("blocker"), Name: "blocker", Definition: def, Type: "STANDARD"}); err != nil {
		t.Fatal(err)
	}
	run, err := runner.StartExecution(ctx, engine.StartInput{StateMachineArn: engine.StateMachineArn("blocker"), Name: "long"})
	if err != nil {
		t.Fatal(err)
	}
	<-started
	other := engine.New(engine.Options{Store: &engine.FileStore{Dir: dir}, StopPollInterval: 10 * time.Millisecond})
	c := newClient(t, other)
	out, err := c.StopExecution(ctx, &sfn.StopExecutionInput{ExecutionArn: aws.String(run.Arn()), Error: aws.String("Ops.Cancelled"), Cause: aws.String("no longer needed")})
	if err != nil {
		t.Fatal(err)
	}
	x, _ := run.Wait(ctx)
	if d := x.StopDate.Sub(aws.ToTime(out.StopDate)); x.Status != engine.StatusAborted || d > time.Millisecond || d < -time.Millisecond {
		t.Fatalf("execution %+v, stop date %v", x, out.StopDate)
	}
	d, err := c.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(run.Arn())})
	if err != nil || d.Status != types.ExecutionStatusAborted || aws.ToString(d.Error) != "Ops.Cancelled" {
		t.Fatalf("describe: %v %+v", err, d)
	}
	h, err := c.GetExecutionHistory(ctx, &sfn.GetExecutionHistoryInput{ExecutionArn: aws.String(run.Arn()), ReverseOrder: true, MaxResults: 1})
	if err != nil || len(h.Events) != 1 || h.Events[0].Type != types.HistoryEventTypeExecutionAborted ||
		aws.ToString(h.Events[0].ExecutionAbortedEventDetails.Cause) != "no longer needed" {
		t.Fatalf("history: %v %+v", err, h)
	}
}

func TestDiscover(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := dir + "/endpoint"
	if _, ok := Discover(ctx, path); ok {
		t.Fatal("discovered without a file")
	}
	srv := httptestServer(t, engine.New(engine.Options{}))
	os.WriteFile(path, []byte(srv+"\n"), 0o644)
	if got, ok := Discover(ctx, path); !ok || got != srv {
		t.Fatalf("Discover = %q, %v; want %s", got, ok, srv)
	}
	// A stale file: nothing listens there any more.
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	stale := "http://" + l.Addr().String()
	l.Close()
	os.WriteFile(path, []byte(stale), 0o644)
	if _, ok := Discover(ctx, path); ok {
		t.Fatal("discovered a stale endpoint")
	}
	os.WriteFile(path, []byte("http://example.com:80"), 0o644)
	if _, ok := Discover(ctx, path); ok {
		t.Fatal("discovered a non-loopback endpoint")
	}
}

func httptestServer(t *testing.T, e *engine.Engine) string {
	srv := httptest.NewServer(&Server{Engine: e})
	t.Cleanup(srv.Close)
	return srv.URL
}
