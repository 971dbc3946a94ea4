// Package sfnlocal serves the Step Functions API (AWS JSON 1.0 protocol:
// POST / with X-Amz-Target: AWSStepFunctions.<Operation>) over the local
// engine, so the aws-sdk-go-v2 sfn client and the AWS CLI work against it
// with an endpoint override. Operations: CreateStateMachine,
// DescribeStateMachine, ListStateMachines, StartExecution,
// DescribeExecution, StopExecution, ListExecutions, GetExecutionHistory,
// and the callback operations SendTaskSuccess, SendTaskFailure and
// SendTaskHeartbeat.
package sfnlocal

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/serverless-elt/elt/asl/engine"
	"github.com/serverless-elt/elt/asl/validate"
)

const targetPrefix = "AWSStepFunctions."

// maxRequestBytes bounds a request body (definitions are at most 1 MB on AWS).
const maxRequestBytes = 4 << 20

// Server answers Step Functions API calls with an engine.
type Server struct {
	Engine *engine.Engine
	Log    *slog.Logger
	// Now stamps state machine creation dates; nil means time.Now.
	Now func() time.Time
}

// apiError is an error response: HTTP status and the exception name the
// SDK turns into a typed error (ExecutionAlreadyExists, ...).
type apiError struct {
	status int
	code   string
	msg    string
}

func (e *apiError) Error() string { return e.code + ": " + e.msg }

func badRequest(code, format string, args ...any) *apiError {
	return &apiError{status: http.StatusBadRequest, code: code, msg: fmt.Sprintf(format, args...)}
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		writeError(w, &apiError{status: http.StatusMethodNotAllowed, code: "UnknownOperationException", msg: "use POST"})
		return
	}
	op, ok := strings.CutPrefix(r.Header.Get("X-Amz-Target"), targetPrefix)
	if !ok {
		writeError(w, badRequest("UnknownOperationException", "missing or unknown X-Amz-Target %q", r.Header.Get("X-Amz-Target")))
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxRequestBytes+1))
	if err != nil || len(body) > maxRequestBytes {
		writeError(w, badRequest("SerializationException", "request body unreadable or too large"))
		return
	}
	if len(bytes.TrimSpace(body)) == 0 {
		body = []byte("{}")
	}
	h, ok := s.handlers()[op]
	if !ok {
		writeError(w, badRequest("UnknownOperationException", "operation %s is not supported by the local endpoint", op))
		return
	}
	out, err := h(r.Context(), body)
	if err != nil {
		var ae *apiError
		if !errors.As(err, &ae) {
			ae = mapError(err)
		}
		if s.Log != nil {
			s.Log.Info("sfnlocal.error", "op", op, "code", ae.code, "msg", ae.msg)
		}
		writeError(w, ae)
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	json.NewEncoder(w).Encode(out)
}

func writeError(w http.ResponseWriter, e *apiError) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.Header().Set("X-Amzn-ErrorType", e.code)
	w.WriteHeader(e.status)
	json.NewEncoder(w).Encode(map[string]string{"__type": e.code, "message": e.msg})
}

// mapError turns engine errors into the API's exceptions.
func mapError(err error) *apiError {
	for _, m := range []struct {
		target error
		code   string
	}{
		{engine.ErrExecutionAlreadyExists, "ExecutionAlreadyExists"},
		{engine.ErrExecutionDoesNotExist, "ExecutionDoesNotExist"},
		{engine.ErrStateMachineDoesNotExist, "StateMachineDoesNotExist"},
		{engine.ErrStateMachineAlreadyExists, "StateMachineAlreadyExists"},
		{engine.ErrInvalidName, "InvalidName"},
		{engine.ErrInvalidArn, "InvalidArn"},
		{engine.ErrInvalidExecutionInput, "InvalidExecutionInput"},
		{engine.ErrTaskDoesNotExist, "TaskDoesNotExist"},
	} {
		if errors.Is(err, m.target) {
			return badRequest(m.code, "%v", err)
		}
	}
	return &apiError{status: http.StatusInternalServerError, code: "InternalFailure", msg: err.Error()}
}

type handler func(ctx context.Context, body []byte) (any, error)

func decode[T any](body []byte) (T, error) {
	var v T
	d := json.NewDecoder(bytes.NewReader(body))
	if err := d.Decode(&v); err != nil {
		return v, badRequest("SerializationException", "%v", err)
	}
	return v, nil
}

func epoch(t time.Time) json.Number {
	return json.Number(strconv.FormatFloat(float64(t.UnixNano())/1e9, 'f', 3, 64))
}

func (s *Server) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now().UTC()
}

func (s *Server) handlers() map[string]handler {
	return map[string]handler{
		"CreateStateMachine":   s.createStateMachine,
		"DescribeStateMachine": s.describeStateMachine,
		"ListStateMachines":    s.listStateMachines,
		"StartExecution":       s.startExecution,
		"DescribeExecution":    s.describeExecution,
		"StopExecution":        s.stopExecution,
		"ListExecutions":       s.listExecutions,
		"GetExecutionHistory":  s.getExecutionHistory,
		"SendTaskSuccess":      s.sendTaskSuccess,
		"SendTaskFailure":      s.sendTaskFailure,
		"SendTaskHeartbeat":    s.sendTaskHeartbeat,
	}
}

func (s *Server) createStateMachine(ctx context.Context, body []byte) (any, error) {
	in, err := decode[struct {
		Name       string `json:"name"`
		Definition string `json:"definition"`
		RoleArn    string `json:"roleArn"`
		Type       string `json:"type"`
	}](body)
	if err != nil {
		return nil, err
	}
	if err := engine.CheckName(in.Name); err != nil {
		return nil, badRequest("InvalidName", "%v", err)
	}
	if ps := validate.Definition([]byte(in.Definition)); len(ps) > 0 {
		msgs := make([]string, len(ps))
		for i, p := range ps {
			msgs[i] = p.String()
		}
		return nil, badRequest("InvalidDefinition", "%s", strings.Join(msgs, "; "))
	}
	if _, err := engine.Compile([]byte(in.Definition)); err != nil {
		return nil, badRequest("InvalidDefinition", "%v", err)
	}
	if in.Type == "" {
		in.Type = "STANDARD"
	}
	rec := engine.StateMachineRecord{
		StateMachineArn: engine.StateMachineArn(in.Name),
		Name:            in.Name,
		Definition:      in.Definition,
		RoleArn:         in.RoleArn,
		Type:            in.Type,
		CreationDate:    s.now(),
	}
	if err := s.Engine.Store().PutStateMachine(ctx, rec); err != nil {
		return nil, err
	}
	return map[string]any{"stateMachineArn": rec.StateMachineArn, "creationDate": epoch(rec.CreationDate)}, nil
}

type arnRequest struct {
	StateMachineArn string `json:"stateMachineArn"`
	ExecutionArn    string `json:"executionArn"`
}

func (s *Server) describeStateMachine(ctx context.Context, body []byte) (any, error) {
	in, err := decode[arnRequest](body)
	if err != nil {
		return nil, err
	}
	sm, err := s.Engine.Store().GetStateMachine(ctx, in.StateMachineArn)
	if err != nil {
		return nil, err
	}
	return map[string]any{
		"stateMachineArn": sm.StateMachineArn,
		"name":            sm.Name,
		"status":          "ACTIVE",
		"definition":      sm.Definition,
		"roleArn":         sm.RoleArn,
		"type":            sm.Type,
		"creationDate":    epoch(sm.CreationDate),
	}, nil
}

func (s *Server) listStateMachines(ctx context.Context, body []byte) (any, error) {
	sms, err := s.Engine.Store().ListStateMachines(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]any, 0, len(sms))
	for _, sm := range sms {
		out = append(out, map[string]any{"stateMachineArn": sm.StateMachineArn, "name": sm.Name, "type": sm.Type, "creationDate": epoch(sm.CreationDate)})
	}
	return map[string]any{"stateMachines": out}, nil
}

func (s *Server) startExecution(ctx context.Context, body []byte) (any, error) {
	in, err := decode[struct {
		StateMachineArn string `json:"stateMachineArn"`
		Name            string `json:"name"`
		Input           string `json:"input"`
	}](body)
	if err != nil {
		return nil, err
	}
	run, err := s.Engine.StartExecution(ctx, engine.StartInput{StateMachineArn: in.StateMachineArn, Name: in.Name, Input: in.Input})
	if err != nil {
		return nil, err
	}
	x := run.Execution()
	return map[string]any{"executionArn": x.ExecutionArn, "startDate": epoch(x.StartDate)}, nil
}

func (s *Server) describeExecution(ctx context.Context, body []byte) (any, error) {
	in, err := decode[arnRequest](body)
	if err != nil {
		return nil, err
	}
	x, err := s.Engine.Store().GetExecution(ctx, in.ExecutionArn)
	if err != nil {
		return nil, err
	}
	return describe(x), nil
}

// describe is the DescribeExecution response of an execution.
func describe(x engine.Execution) map[string]any {
	m := map[string]any{
		"executionArn":    x.ExecutionArn,
		"stateMachineArn": x.StateMachineArn,
		"name":            x.Name,
		"status":          x.Status,
		"startDate":       epoch(x.StartDate),
		"input":           x.Input,
		"inputDetails":    map[string]any{"included": true},
		"redriveCount":    x.RedriveCount,
	}
	if x.StopDate != nil {
		m["stopDate"] = epoch(*x.StopDate)
	}
	if x.Output != nil {
		m["output"] = *x.Output
		m["outputDetails"] = map[string]any{"included": true}
	}
	if x.Error != "" {
		m["error"] = x.Error
	}
	if x.Cause != "" {
		m["cause"] = x.Cause
	}
	return m
}

func (s *Server) stopExecution(ctx context.Context, body []byte) (any, error) {
	in, err := decode[struct {
		ExecutionArn string `json:"executionArn"`
		Error        string `json:"error"`
		Cause        string `json:"cause"`
	}](body)
	if err != nil {
		return nil, err
	}
	stop, err := s.Engine.StopExecution(ctx, in.ExecutionArn, in.Error, in.Cause)
	if err != nil {
		return nil, err
	}
	return map[string]any{"stopDate": epoch(stop)}, nil
}

type taskRequest struct {
	TaskToken string `json:"taskToken"`
	Output    string `json:"output"`
	Error     string `json:"error"`
	Cause     string `json:"cause"`
}

func (s *Server) sendTaskSuccess(ctx context.Context, body []byte) (any, error) {
	in, err := decode[taskRequest](body)
	if err != nil {
		return nil, err
	}
	if !json.Valid([]byte(in.Output)) {
		return nil, badRequest("InvalidOutput", "output is not JSON")
	}
	return map[string]any{}, s.Engine.SendTaskSuccess(ctx, in.TaskToken, in.Output)
}

func (s *Server) sendTaskFailure(ctx context.Context, body []byte) (any, error) {
	in, err := decode[taskRequest](body)
	if err != nil {
		return nil, err
	}
	return map[string]any{}, s.Engine.SendTaskFailure(ctx, in.TaskToken, in.Error, in.Cause)
}

func (s *Server) sendTaskHeartbeat(ctx context.Context, body []byte) (any, error) {
	in, err := decode[taskRequest](body)
	if err != nil {
		return nil, err
	}
	return map[string]any{}, s.Engine.SendTaskHeartbeat(ctx, in.TaskToken)
}

// page applies maxResults/nextToken (an offset) to n items.
func page(n, maxResults int, token string) (lo, hi int, next string, err error) {
	if token != "" {
		lo, err = strconv.Atoi(token)
		if err != nil || lo < 0 || lo > n {
			return 0, 0, "", badRequest("InvalidToken", "invalid nextToken %q", token)
		}
	}
	if maxResults <= 0 || maxResults > 1000 {
		maxResults = 100
	}
	hi = min(lo+maxResults, n)
	if hi < n {
		next = strconv.Itoa(hi)
	}
	return lo, hi, next, nil
}

func (s *Server) listExecutions(ctx context.Context, body []byte) (any, error) {
	in, err := decode[struct {
		StateMachineArn string `json:"stateMachineArn"`
		StatusFilter    string `json:"statusFilter"`
		MaxResults      int    `json:"maxResults"`
		NextToken       string `json:"nextToken"`
	}](body)
	if err != nil {
		return nil, err
	}
	xs, err := s.Engine.Store().ListExecutions(ctx, in.StateMachineArn)
	if err != nil {
		return nil, err
	}
	if len(xs) == 0 {
		// Executions started by `elt sfn run` belong to state machines
		// that were never registered; only an unknown name with no
		// executions at all is an error.
		if _, err := s.Engine.Store().GetStateMachine(ctx, in.StateMachineArn); err != nil {
			return nil, err
		}
	}
	var items []any
	for _, x := range xs {
		if in.StatusFilter != "" && x.Status != in.StatusFilter {
			continue
		}
		item := map[string]any{"executionArn": x.ExecutionArn, "stateMachineArn": x.StateMachineArn, "name": x.Name, "status": x.Status, "startDate": epoch(x.StartDate)}
		if x.StopDate != nil {
			item["stopDate"] = epoch(*x.StopDate)
		}
		items = append(items, item)
	}
	lo, hi, next, err := page(len(items), in.MaxResults, in.NextToken)
	if err != nil {
		return nil, err
	}
	out := map[string]any{"executions": append([]any{}, items[lo:hi]...)}
	if next != "" {
		out["nextToken"] = next
	}
	return out, nil
}

func (s *Server) getExecutionHistory(ctx context.Context, body []byte) (any, error) {
	in, err := decode[struct {
		ExecutionArn         string `json:"executionArn"`
		MaxResults           int    `json:"maxResults"`
		NextToken            string `json:"nextToken"`
		ReverseOrder         bool   `json:"reverseOrder"`
		IncludeExecutionData *bool  `json:"includeExecutionData"`
	}](body)
	if err != nil {
		return nil, err
	}
	evs, err := s.Engine.Store().History(ctx, in.ExecutionArn)
	if err != nil {
		return nil, err
	}
	if in.ReverseOrder {
		sort.SliceStable(evs, func(i, j int) bool { return evs[i].ID > evs[j].ID })
	}
	lo, hi, next, err := page(len(evs), in.MaxResults, in.NextToken)
	if err != nil {
		return nil, err
	}
	withData := in.IncludeExecutionData == nil || *in.IncludeExecutionData
	out := make([]any, 0, hi-lo)
	for _, ev := range evs[lo:hi] {
		out = append(out, APIEvent(ev, withData))
	}
	res := map[string]any{"events": out}
	if next != "" {
		res["nextToken"] = next
	}
	return res, nil
}

// APIEvent is a history event as GetExecutionHistory returns it
// (timestamps as epoch seconds). Without data, inputs and outputs are
// left out as includeExecutionData=false does.
func APIEvent(ev engine.Event, withData bool) map[string]any {
	m := map[string]any{"id": ev.ID, "previousEventId": ev.PreviousEventID, "timestamp": epoch(ev.Timestamp), "type": ev.Type}
	if ev.DetailsKey != "" && ev.Details != nil {
		d := ev.Details
		if !withData {
			d = map[string]any{}
			for k, v := range ev.Details {
				if k != "input" && k != "output" && k != "parameters" {
					d[k] = v
				}
			}
		}
		m[ev.DetailsKey] = d
	}
	return m
}

// Listen opens a listener on a loopback address only: the local endpoint
// has no authentication, so it must not be reachable from elsewhere.
func Listen(addr string) (net.Listener, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("listen address %q: %w", addr, err)
	}
	ip := net.ParseIP(host)
	if host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, fmt.Errorf("listen address %q: the local endpoint binds to loopback addresses only", addr)
	}
	return net.Listen("tcp", addr)
}
