package awstest

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/Admiral-Piett/goaws/app"
	"github.com/Admiral-Piett/goaws/app/gosqs"
	"github.com/Admiral-Piett/goaws/app/router"
	log "github.com/sirupsen/logrus"
)

// SQS is goaws (github.com/Admiral-Piett/goaws v0.4.5, in process) behind a
// bridge that speaks the AWS JSON 1.0 protocol the current SDK uses
// (X-Amz-Target: AmazonSQS.<Action>) and forwards each call to goaws as the
// query protocol (Action=...) it understands, translating the XML replies
// back to JSON. The bridge only translates; queue behaviour is goaws's.
//
// Known deviations of goaws v0.4.5 from SQS (the SQS adapter's tests skip
// the contract subtests that depend on them, by name, with the reason):
//   - ApproximateReceiveCount is always 1 (it never counts receives).
//   - ReceiveMessage ignores its VisibilityTimeout parameter and uses the
//     queue's VisibilityTimeout attribute.
//   - There is no StartMessageMoveTask / ListMessageMoveTasks (the bridge
//     answers UnsupportedOperation, as SQS does for unknown actions).
//   - Queue state is process-global, so there is one server per test binary.
type SQS struct {
	URL   string
	srv   *httptest.Server
	goaws http.Handler
	quit  chan struct{}
}

var sqsOnce sync.Mutex

// StartSQS starts goaws and the bridge on 127.0.0.1.
func StartSQS() (*SQS, error) {
	sqsOnce.Lock()
	defer sqsOnce.Unlock()
	log.SetOutput(io.Discard) // goaws logs every request through logrus
	s := &SQS{goaws: router.New(), quit: make(chan struct{})}
	srv, err := loopback(http.HandlerFunc(s.serve))
	if err != nil {
		return nil, fmt.Errorf("start goaws: %w", err)
	}
	u, _ := url.Parse(srv.URL)
	app.CurrentEnvironment.Host = u.Hostname()
	app.CurrentEnvironment.Port = u.Port()
	app.CurrentEnvironment.Region = ""
	app.CurrentEnvironment.AccountID = "000000000000"
	app.CurrentEnvironment.QueueAttributeDefaults.VisibilityTimeout = 30
	app.CurrentEnvironment.QueueAttributeDefaults.MaximumMessageSize = 262144
	s.URL, s.srv = srv.URL, srv
	// goaws returns expired in-flight messages to the queue (and moves them
	// to the DLQ) on this ticker.
	go gosqs.PeriodicTasks(100*time.Millisecond, s.quit)
	return s, nil
}

// Close stops the server.
func (s *SQS) Close() {
	close(s.quit)
	s.srv.Close()
}

type jsonErr struct {
	Type    string `json:"__type"`
	Message string `json:"message"`
}

func writeJSONErr(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	// The SDK maps the legacy query error code from this header.
	w.Header().Set("x-amzn-query-error", code+";Sender")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(jsonErr{Type: "com.amazonaws.sqs#" + code, Message: msg})
}

func (s *SQS) serve(w http.ResponseWriter, r *http.Request) {
	target := r.Header.Get("X-Amz-Target")
	action, ok := strings.CutPrefix(target, "AmazonSQS.")
	if !ok {
		// Query protocol callers go straight to goaws.
		s.goaws.ServeHTTP(w, r)
		return
	}
	var in map[string]any
	dec := json.NewDecoder(r.Body)
	dec.UseNumber()
	if err := dec.Decode(&in); err != nil {
		writeJSONErr(w, 400, "InvalidParameterValue", "body: "+err.Error())
		return
	}
	if action == "SendMessageBatch" {
		s.sendBatch(w, r, in)
		return
	}
	form, err := toQuery(action, in)
	if err != nil {
		writeJSONErr(w, 400, "UnsupportedOperation", err.Error())
		return
	}
	out, status, err := s.call(r.Context(), action, form)
	if r.Context().Err() != nil {
		return
	}
	if err != nil {
		writeJSONErr(w, 500, "InternalError", err.Error())
		return
	}
	if e, ok := out.(queryError); ok {
		code := e.Code
		switch code {
		case "AWS.SimpleQueueService.NonExistentQueue":
			code = "QueueDoesNotExist"
		case "AWS.SimpleQueueService.QueueExists":
			if action == "DeleteMessage" || action == "ChangeMessageVisibility" {
				code = "ReceiptHandleIsInvalid" // goaws's "message does not exist"
			}
		}
		code = strings.TrimPrefix(code, "AWS.SimpleQueueService.")
		if status < 400 {
			status = 400
		}
		writeJSONErr(w, status, code, e.Message)
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	json.NewEncoder(w).Encode(out)
}

// call runs one query-protocol action on goaws and decodes its reply.
func (s *SQS) call(ctx context.Context, action string, form url.Values) (any, int, error) {
	req := httptest.NewRequestWithContext(ctx, "POST", "/", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	s.goaws.ServeHTTP(rec, req)
	out, err := fromXML(action, rec.Body.Bytes())
	return out, rec.Code, err
}

// sendBatch forwards each entry as a SendMessage, because goaws v0.4.5's
// SendMessageBatch drops message attributes. Batch-level checks follow
// SendMessageBatch's documented errors.
func (s *SQS) sendBatch(w http.ResponseWriter, r *http.Request, in map[string]any) {
	entries, _ := in["Entries"].([]any)
	switch {
	case len(entries) == 0:
		writeJSONErr(w, 400, "EmptyBatchRequest", "The batch request doesn't contain any entries.")
		return
	case len(entries) > 10:
		writeJSONErr(w, 400, "TooManyEntriesInBatchRequest", "Maximum number of entries per request are 10.")
		return
	}
	ids := map[string]bool{}
	for _, e := range entries {
		m, _ := e.(map[string]any)
		id := str(m["Id"])
		if ids[id] {
			writeJSONErr(w, 400, "BatchEntryIdsNotDistinct", "Two or more batch entries in the request have the same Id.")
			return
		}
		ids[id] = true
	}
	ok := []map[string]any{}
	failed := []map[string]any{}
	for _, e := range entries {
		m, _ := e.(map[string]any)
		f := url.Values{"Action": {"SendMessage"}, "Version": {"2012-11-05"}, "QueueUrl": {str(in["QueueUrl"])}, "MessageBody": {str(m["MessageBody"])}}
		if d, ok := m["DelaySeconds"]; ok {
			f.Set("DelaySeconds", str(d))
		}
		attrs, _ := m["MessageAttributes"].(map[string]any)
		i := 1
		for name, v := range attrs {
			av, _ := v.(map[string]any)
			p := fmt.Sprintf("MessageAttribute.%d.", i)
			f.Set(p+"Name", name)
			f.Set(p+"Value.DataType", str(av["DataType"]))
			f.Set(p+"Value.StringValue", str(av["StringValue"]))
			i++
		}
		out, _, err := s.call(r.Context(), "SendMessage", f)
		if r.Context().Err() != nil {
			return
		}
		if err != nil {
			writeJSONErr(w, 500, "InternalError", err.Error())
			return
		}
		if qe, isErr := out.(queryError); isErr {
			failed = append(failed, map[string]any{"Id": m["Id"], "Code": qe.Code, "Message": qe.Message, "SenderFault": true})
			continue
		}
		res := out.(map[string]any)
		res["Id"] = m["Id"]
		ok = append(ok, res)
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	json.NewEncoder(w).Encode(map[string]any{"Successful": ok, "Failed": failed})
}

func str(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case json.Number:
		return x.String()
	case bool:
		return strconv.FormatBool(x)
	case nil:
		return ""
	default:
		return fmt.Sprint(x)
	}
}

// toQuery turns a JSON request into goaws's query form.
func toQuery(action string, in map[string]any) (url.Values, error) {
	f := url.Values{"Action": {action}, "Version": {"2012-11-05"}}
	for _, k := range []string{"QueueUrl", "QueueName", "ReceiptHandle", "VisibilityTimeout", "WaitTimeSeconds", "MaxNumberOfMessages"} {
		if v, ok := in[k]; ok {
			f.Set(k, str(v))
		}
	}
	switch action {
	case "CreateQueue", "SetQueueAttributes":
		attrs, _ := in["Attributes"].(map[string]any)
		i := 1
		for k, v := range attrs {
			f.Set(fmt.Sprintf("Attribute.%d.Name", i), k)
			f.Set(fmt.Sprintf("Attribute.%d.Value", i), str(v))
			i++
		}
	case "GetQueueAttributes":
		names, _ := in["AttributeNames"].([]any)
		for i, n := range names {
			f.Set(fmt.Sprintf("AttributeName.%d", i+1), str(n))
		}
	case "SendMessage":
		f.Set("MessageBody", str(in["MessageBody"]))
	case "GetQueueUrl", "ReceiveMessage", "DeleteMessage", "ChangeMessageVisibility", "PurgeQueue", "DeleteQueue", "ListQueues":
	default:
		return nil, fmt.Errorf("goaws does not implement %s", action)
	}
	return f, nil
}

type queryError struct {
	Code    string `xml:"Error>Code"`
	Message string `xml:"Error>Message"`
}

type xmlAttr struct {
	Name  string `xml:"Name"`
	Value string `xml:"Value"`
}

// fromXML turns goaws's XML reply into the JSON shape of the action's output.
func fromXML(action string, body []byte) (any, error) {
	if bytes.Contains(body[:min(len(body), 200)], []byte("<ErrorResponse")) {
		var e queryError
		if err := xml.Unmarshal(body, &e); err != nil {
			return nil, fmt.Errorf("goaws %s error reply: %w", action, err)
		}
		return e, nil
	}
	switch action {
	case "CreateQueue", "GetQueueUrl":
		var r struct {
			URL string `xml:"CreateQueueResult>QueueUrl"`
			Get string `xml:"GetQueueUrlResult>QueueUrl"`
		}
		if err := xml.Unmarshal(body, &r); err != nil {
			return nil, fmt.Errorf("goaws %s reply: %w", action, err)
		}
		return map[string]any{"QueueUrl": r.URL + r.Get}, nil
	case "SendMessage":
		var r struct {
			MessageID string `xml:"SendMessageResult>MessageId"`
			MD5       string `xml:"SendMessageResult>MD5OfMessageBody"`
			MD5Attrs  string `xml:"SendMessageResult>MD5OfMessageAttributes"`
		}
		if err := xml.Unmarshal(body, &r); err != nil {
			return nil, fmt.Errorf("goaws %s reply: %w", action, err)
		}
		out := map[string]any{"MessageId": r.MessageID, "MD5OfMessageBody": r.MD5}
		if r.MD5Attrs != "" {
			out["MD5OfMessageAttributes"] = r.MD5Attrs
		}
		return out, nil
	case "ReceiveMessage":
		var r struct {
			Msgs []struct {
				MessageID     string    `xml:"MessageId"`
				ReceiptHandle string    `xml:"ReceiptHandle"`
				MD5           string    `xml:"MD5OfBody"`
				MD5Attrs      string    `xml:"MD5OfMessageAttributes"`
				Body          string    `xml:"Body"`
				Attrs         []xmlAttr `xml:"Attribute"`
				MsgAttrs      []struct {
					Name  string `xml:"Name"`
					Type  string `xml:"Value>DataType"`
					Value string `xml:"Value>StringValue"`
				} `xml:"MessageAttribute"`
			} `xml:"ReceiveMessageResult>Message"`
		}
		if err := xml.Unmarshal(body, &r); err != nil {
			return nil, fmt.Errorf("goaws %s reply: %w", action, err)
		}
		msgs := []map[string]any{}
		for _, m := range r.Msgs {
			attrs := map[string]string{}
			for _, a := range m.Attrs {
				attrs[a.Name] = a.Value
			}
			msg := map[string]any{"MessageId": m.MessageID, "ReceiptHandle": m.ReceiptHandle,
				"MD5OfBody": m.MD5, "Body": m.Body, "Attributes": attrs}
			if len(m.MsgAttrs) > 0 {
				ma := map[string]any{}
				for _, a := range m.MsgAttrs {
					ma[a.Name] = map[string]string{"DataType": a.Type, "StringValue": a.Value}
				}
				msg["MessageAttributes"] = ma
				msg["MD5OfMessageAttributes"] = m.MD5Attrs
			}
			msgs = append(msgs, msg)
		}
		return map[string]any{"Messages": msgs}, nil
	case "GetQueueAttributes":
		var r struct {
			Attrs []xmlAttr `xml:"GetQueueAttributesResult>Attribute"`
		}
		if err := xml.Unmarshal(body, &r); err != nil {
			return nil, fmt.Errorf("goaws %s reply: %w", action, err)
		}
		attrs := map[string]string{}
		for _, a := range r.Attrs {
			attrs[a.Name] = a.Value
		}
		return map[string]any{"Attributes": attrs}, nil
	default:
		return map[string]any{}, nil
	}
}
