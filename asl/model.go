package asl

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"iter"
)

// State types, the values of State.Type.
const (
	TypeTask     = "Task"
	TypePass     = "Pass"
	TypeChoice   = "Choice"
	TypeWait     = "Wait"
	TypeSucceed  = "Succeed"
	TypeFail     = "Fail"
	TypeParallel = "Parallel"
	TypeMap      = "Map"
)

// StateTypes lists every state type in a fixed order.
var StateTypes = []string{TypeTask, TypePass, TypeChoice, TypeWait, TypeSucceed, TypeFail, TypeParallel, TypeMap}

// QueryLanguageJSONPath is the only query language this model supports.
const QueryLanguageJSONPath = "JSONPath"

// StateMachine is a whole ASL document. Field order is the order of the
// keys in encoded JSON.
type StateMachine struct {
	// Comment is a human-readable description of the state machine.
	Comment string `json:"Comment,omitempty"`
	// QueryLanguage is absent or "JSONPath" (JSONata is not supported).
	QueryLanguage string `json:"QueryLanguage,omitempty" jsonschema:"enum=JSONPath"`
	// StartAt names the first state to run; it must be a key of States.
	StartAt string `json:"StartAt"`
	// States are the states, in definition order.
	States States `json:"States"`
	// TimeoutSeconds is the maximum run time of an execution.
	TimeoutSeconds *int `json:"TimeoutSeconds,omitempty" jsonschema:"minimum=0"`
	// Version of the ASL, "1.0" when present.
	Version string `json:"Version,omitempty" jsonschema:"enum=1.0"`
}

// State is one state of any type: Type says which; only the fields AWS
// allows for that type are set (AllowedFields lists them). Fields appear in
// encoded JSON in the order they are declared here.
//
// Absent optional numbers are nil pointers. InputPath, OutputPath and
// ResultPath are NullablePath so an explicit JSON null (discard) is not
// confused with an absent field (default "$").
type State struct {
	// Name is the state's key in its States object. Not encoded.
	Name string `json:"-"`

	Type          string `json:"Type" jsonschema:"enum=Task,enum=Pass,enum=Choice,enum=Wait,enum=Succeed,enum=Fail,enum=Parallel,enum=Map"`
	Comment       string `json:"Comment,omitempty"`
	QueryLanguage string `json:"QueryLanguage,omitempty" jsonschema:"enum=JSONPath"`

	// Task: the ARN of the activity, Lambda function or service integration
	// (e.g. "arn:aws:states:::lambda:invoke").
	Resource string `json:"Resource,omitempty" jsonschema:"minLength=1"`
	// Task: the role to assume ({"RoleArn": ...} or {"RoleArn.$": ...}).
	Credentials *Value `json:"Credentials,omitempty"`

	// InputPath selects the part of the state input to use; null means {}.
	InputPath NullablePath `json:"InputPath,omitzero"`

	// Map: reference path to the items array (default "$").
	ItemsPath string `json:"ItemsPath,omitempty"`
	// Map (distributed): where the items come from (e.g. an S3 object).
	ItemReader *ItemReader `json:"ItemReader,omitempty"`
	// Map: template applied to each item (replaces legacy Map Parameters).
	ItemSelector *Value `json:"ItemSelector,omitempty"`
	// Map (distributed): groups items into batches.
	ItemBatcher *ItemBatcher `json:"ItemBatcher,omitempty"`

	// Task, Pass, Parallel, Map (legacy): the effective input template.
	Parameters *Value `json:"Parameters,omitempty"`
	// Pass: the fixed result.
	Result *Value `json:"Result,omitempty"`

	// Map: concurrency limit (0 = unlimited), static or from a path.
	MaxConcurrency     *int   `json:"MaxConcurrency,omitempty" jsonschema:"minimum=0"`
	MaxConcurrencyPath string `json:"MaxConcurrencyPath,omitempty"`
	// Map (distributed): failure tolerance.
	ToleratedFailurePercentage     *float64 `json:"ToleratedFailurePercentage,omitempty" jsonschema:"minimum=0,maximum=100"`
	ToleratedFailurePercentagePath string   `json:"ToleratedFailurePercentagePath,omitempty"`
	ToleratedFailureCount          *int     `json:"ToleratedFailureCount,omitempty" jsonschema:"minimum=0"`
	ToleratedFailureCountPath      string   `json:"ToleratedFailureCountPath,omitempty"`
	// Map (distributed): prefix of child execution names.
	Label string `json:"Label,omitempty" jsonschema:"maxLength=40"`
	// Map: the states run for each item.
	ItemProcessor *ItemProcessor `json:"ItemProcessor,omitempty"`
	// Map (legacy): the states run for each item.
	Iterator *ItemProcessor `json:"Iterator,omitempty"`
	// Parallel: the branches, all run on the same input.
	Branches []Branch `json:"Branches,omitempty"`
	// Map (distributed): where to write child execution results.
	ResultWriter *ResultWriter `json:"ResultWriter,omitempty"`

	// Task, Parallel, Map: template applied to the raw result.
	ResultSelector *Value `json:"ResultSelector,omitempty"`
	// Where in the input to put the result; null discards the result.
	ResultPath NullablePath `json:"ResultPath,omitzero"`
	// OutputPath selects the part of the output to pass on; null means {}.
	OutputPath NullablePath `json:"OutputPath,omitzero"`
	// Assign sets workflow variables (JSONPath variables).
	Assign *Value `json:"Assign,omitempty"`

	// Task: timeouts (TimeoutSeconds default 60 for activities / 99999999).
	TimeoutSeconds       *int   `json:"TimeoutSeconds,omitempty" jsonschema:"minimum=1"`
	TimeoutSecondsPath   string `json:"TimeoutSecondsPath,omitempty"`
	HeartbeatSeconds     *int   `json:"HeartbeatSeconds,omitempty" jsonschema:"minimum=1"`
	HeartbeatSecondsPath string `json:"HeartbeatSecondsPath,omitempty"`

	// Wait: exactly one of these.
	Seconds       *int   `json:"Seconds,omitempty" jsonschema:"minimum=0"`
	SecondsPath   string `json:"SecondsPath,omitempty"`
	Timestamp     string `json:"Timestamp,omitempty" jsonschema:"format=date-time"`
	TimestampPath string `json:"TimestampPath,omitempty"`

	// Choice: the rules, tried in order, and the fallback state.
	Choices []ChoiceRule `json:"Choices,omitempty"`
	Default string       `json:"Default,omitempty"`

	// Fail: error name and cause, static or from a path.
	Error     string `json:"Error,omitempty"`
	ErrorPath string `json:"ErrorPath,omitempty"`
	Cause     string `json:"Cause,omitempty"`
	CausePath string `json:"CausePath,omitempty"`

	// Task, Parallel, Map: error handling, tried in order.
	Retry []Retrier `json:"Retry,omitempty"`
	Catch []Catcher `json:"Catch,omitempty"`

	// Transition: the next state, or End for a terminal state.
	Next string `json:"Next,omitempty"`
	End  bool   `json:"End,omitempty"`
}

// IsTerminal reports whether an execution path stops after this state.
func (s *State) IsTerminal() bool {
	return s.End || s.Type == TypeSucceed || s.Type == TypeFail
}

// Branch is one branch of a Parallel state: a state machine of its own.
type Branch struct {
	Comment string `json:"Comment,omitempty"`
	StartAt string `json:"StartAt"`
	States  States `json:"States"`
}

// ItemProcessor is the state machine a Map state runs for each item
// (ItemProcessor, or the legacy Iterator which has no ProcessorConfig).
type ItemProcessor struct {
	Comment         string           `json:"Comment,omitempty"`
	ProcessorConfig *ProcessorConfig `json:"ProcessorConfig,omitempty"`
	StartAt         string           `json:"StartAt"`
	States          States           `json:"States"`
}

// Map processing modes and child execution types.
const (
	ModeInline      = "INLINE"
	ModeDistributed = "DISTRIBUTED"
	ExecStandard    = "STANDARD"
	ExecExpress     = "EXPRESS"
)

// ProcessorConfig says how a Map runs its items. ExecutionType is required
// for DISTRIBUTED mode.
type ProcessorConfig struct {
	Mode          string `json:"Mode,omitempty" jsonschema:"enum=INLINE,enum=DISTRIBUTED"`
	ExecutionType string `json:"ExecutionType,omitempty" jsonschema:"enum=STANDARD,enum=EXPRESS"`
}

// ItemReader reads a distributed Map's items from a data source, e.g.
// Resource "arn:aws:states:::s3:getObject" with Bucket and Key parameters.
type ItemReader struct {
	Resource     string        `json:"Resource" jsonschema:"minLength=1"`
	ReaderConfig *ReaderConfig `json:"ReaderConfig,omitempty"`
	Parameters   *Value        `json:"Parameters,omitempty"`
}

// ReaderConfig describes the file an ItemReader reads.
type ReaderConfig struct {
	InputType         string   `json:"InputType,omitempty" jsonschema:"enum=CSV,enum=JSON,enum=JSONL,enum=MANIFEST,enum=PARQUET"`
	CSVHeaderLocation string   `json:"CSVHeaderLocation,omitempty" jsonschema:"enum=FIRST_ROW,enum=GIVEN"`
	CSVHeaders        []string `json:"CSVHeaders,omitempty"`
	CSVDelimiter      string   `json:"CSVDelimiter,omitempty" jsonschema:"enum=COMMA,enum=PIPE,enum=SEMICOLON,enum=SPACE,enum=TAB"`
	ManifestType      string   `json:"ManifestType,omitempty" jsonschema:"enum=ATHENA_DATA,enum=S3_INVENTORY"`
	MaxItems          *int     `json:"MaxItems,omitempty" jsonschema:"minimum=0"`
	MaxItemsPath      string   `json:"MaxItemsPath,omitempty"`
}

// ItemBatcher groups a distributed Map's items into batches.
type ItemBatcher struct {
	MaxItemsPerBatch          *int   `json:"MaxItemsPerBatch,omitempty" jsonschema:"minimum=1"`
	MaxItemsPerBatchPath      string `json:"MaxItemsPerBatchPath,omitempty"`
	MaxInputBytesPerBatch     *int   `json:"MaxInputBytesPerBatch,omitempty" jsonschema:"minimum=1"`
	MaxInputBytesPerBatchPath string `json:"MaxInputBytesPerBatchPath,omitempty"`
	BatchInput                *Value `json:"BatchInput,omitempty"`
}

// ResultWriter exports a distributed Map's child results, e.g. to S3.
type ResultWriter struct {
	Resource     string        `json:"Resource,omitempty"`
	Parameters   *Value        `json:"Parameters,omitempty"`
	WriterConfig *WriterConfig `json:"WriterConfig,omitempty"`
}

// WriterConfig formats exported Map results.
type WriterConfig struct {
	OutputType     string `json:"OutputType,omitempty" jsonschema:"enum=JSON,enum=JSONL"`
	Transformation string `json:"Transformation,omitempty" jsonschema:"enum=NONE,enum=COMPACT,enum=FLATTEN"`
}

// Well-known error names.
const (
	ErrAll                  = "States.ALL"
	ErrTimeout              = "States.Timeout"
	ErrTaskFailed           = "States.TaskFailed"
	ErrPermissions          = "States.Permissions"
	ErrRuntime              = "States.Runtime"
	ErrHeartbeatTimeout     = "States.HeartbeatTimeout"
	ErrBranchFailed         = "States.BranchFailed"
	ErrNoChoiceMatched      = "States.NoChoiceMatched"
	ErrIntrinsicFailure     = "States.IntrinsicFailure"
	ErrResultPathMatchFail  = "States.ResultPathMatchFailure"
	ErrParameterPathFailure = "States.ParameterPathFailure"
	ErrExceedToleratedFail  = "States.ExceedToleratedFailureThreshold"
	ErrItemReaderFailed     = "States.ItemReaderFailed"
	ErrResultWriterFailed   = "States.ResultWriterFailed"
	ErrDataLimitExceeded    = "States.DataLimitExceeded"
)

// Retrier is one Retry entry. Defaults when absent: IntervalSeconds 1,
// MaxAttempts 3, BackoffRate 2.0, no MaxDelaySeconds, JitterStrategy NONE.
// Delay before retry n (1-based) is IntervalSeconds * BackoffRate^(n-1),
// capped by MaxDelaySeconds; FULL jitter picks uniformly in [0, delay].
type Retrier struct {
	Comment         string   `json:"Comment,omitempty"`
	ErrorEquals     []string `json:"ErrorEquals" jsonschema:"minItems=1"`
	IntervalSeconds *int     `json:"IntervalSeconds,omitempty" jsonschema:"minimum=1"`
	MaxAttempts     *int     `json:"MaxAttempts,omitempty" jsonschema:"minimum=0"`
	BackoffRate     *float64 `json:"BackoffRate,omitempty" jsonschema:"minimum=1"`
	MaxDelaySeconds *int     `json:"MaxDelaySeconds,omitempty" jsonschema:"minimum=1"`
	JitterStrategy  string   `json:"JitterStrategy,omitempty" jsonschema:"enum=FULL,enum=NONE"`
}

// Catcher is one Catch entry: on a matching error, go to Next with the
// error output {"Error", "Cause"} placed at ResultPath (default "$").
type Catcher struct {
	Comment     string       `json:"Comment,omitempty"`
	ErrorEquals []string     `json:"ErrorEquals" jsonschema:"minItems=1"`
	ResultPath  NullablePath `json:"ResultPath,omitzero"`
	Assign      *Value       `json:"Assign,omitempty"`
	Next        string       `json:"Next" jsonschema:"minLength=1"`
}

// NullablePath is an optional path field that may also be JSON null
// (InputPath, OutputPath, ResultPath). The zero value means absent.
type NullablePath struct {
	Set  bool   // the field is present in the document
	Null bool   // the field is JSON null (Set is true too)
	Path string // the path when Set and not Null
}

// PathOf returns a present, non-null path.
func PathOf(p string) NullablePath { return NullablePath{Set: true, Path: p} }

// NullPathValue returns an explicit null (discard input, result or output).
func NullPathValue() NullablePath { return NullablePath{Set: true, Null: true} }

// IsZero reports absence, so `omitzero` drops an absent path.
func (p NullablePath) IsZero() bool { return !p.Set }

// Or returns the path, or def when the field is absent. ok is false when
// the field is an explicit null.
func (p NullablePath) Or(def string) (path string, ok bool) {
	switch {
	case !p.Set:
		return def, true
	case p.Null:
		return "", false
	}
	return p.Path, true
}

// MarshalJSON writes null or the path string.
func (p NullablePath) MarshalJSON() ([]byte, error) {
	if p.Null || !p.Set {
		return []byte("null"), nil
	}
	var buf bytes.Buffer
	writeString(&buf, p.Path)
	return buf.Bytes(), nil
}

// UnmarshalJSON reads null or a string.
func (p *NullablePath) UnmarshalJSON(data []byte) error {
	if string(bytes.TrimSpace(data)) == "null" {
		*p = NullablePath{Set: true, Null: true}
		return nil
	}
	var s string
	if err := json.Unmarshal(data, &s); err != nil {
		return fmt.Errorf("path must be a string or null: %w", err)
	}
	*p = NullablePath{Set: true, Path: s}
	return nil
}

// States is the ordered set of states of a machine, branch or item
// processor. It keeps definition order for encoding and iteration.
// The zero value is empty.
type States struct {
	names  []string
	byName map[string]*State
}

// NewStates builds a States from states in order; names must be non-empty
// and distinct.
func NewStates(states ...*State) (States, error) {
	var out States
	for _, s := range states {
		if err := out.add(s); err != nil {
			return States{}, err
		}
	}
	return out, nil
}

func (s *States) add(st *State) error {
	if st == nil {
		return fmt.Errorf("nil state")
	}
	if st.Name == "" {
		return fmt.Errorf("state with empty name")
	}
	if s.byName == nil {
		s.byName = map[string]*State{}
	}
	if _, dup := s.byName[st.Name]; dup {
		return fmt.Errorf("duplicate state name %q", st.Name)
	}
	s.names = append(s.names, st.Name)
	s.byName[st.Name] = st
	return nil
}

// Len is the number of states.
func (s States) Len() int { return len(s.names) }

// Names returns the state names in definition order (a copy).
func (s States) Names() []string { return append([]string(nil), s.names...) }

// Get returns the named state, or nil.
func (s States) Get(name string) *State { return s.byName[name] }

// All iterates over the states in definition order.
func (s States) All() iter.Seq2[string, *State] {
	return func(yield func(string, *State) bool) {
		for _, n := range s.names {
			if !yield(n, s.byName[n]) {
				return
			}
		}
	}
}

// MarshalJSON writes the states as an object in definition order.
func (s States) MarshalJSON() ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteByte('{')
	for i, n := range s.names {
		if i > 0 {
			buf.WriteByte(',')
		}
		writeString(&buf, n)
		buf.WriteByte(':')
		b, err := marshalNoEscape(s.byName[n])
		if err != nil {
			return nil, fmt.Errorf("state %q: %w", n, err)
		}
		buf.Write(b)
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

// UnmarshalJSON reads a States object, keeping key order. Unknown fields in
// a state and duplicate state names are errors.
func (s *States) UnmarshalJSON(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return fmt.Errorf("States must be an object")
	}
	var out States
	for dec.More() {
		kt, err := dec.Token()
		if err != nil {
			return err
		}
		name := kt.(string) // object keys are always strings
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return fmt.Errorf("state %q: %w", name, err)
		}
		st := &State{}
		if err := strictUnmarshal(raw, st); err != nil {
			return fmt.Errorf("state %q: %w", name, err)
		}
		st.Name = name
		if err := checkQueryLanguage(st.QueryLanguage); err != nil {
			return fmt.Errorf("state %q: %w", name, err)
		}
		if err := out.add(st); err != nil {
			return err
		}
	}
	if _, err := dec.Token(); err != nil {
		return err
	}
	*s = out
	return nil
}

// strictUnmarshal decodes one JSON value into v, rejecting unknown fields
// and trailing data.
func strictUnmarshal(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return fmt.Errorf("unexpected data after JSON value")
	}
	return nil
}

func marshalNoEscape(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// Parse decodes an ASL document. It checks structure only (JSON syntax,
// known fields, field types, unique state names); the semantic rules are
// checked by package asl/validate.
func Parse(data []byte) (*StateMachine, error) {
	sm := &StateMachine{}
	if err := strictUnmarshal(data, sm); err != nil {
		return nil, fmt.Errorf("parse state machine: %w", err)
	}
	if err := checkQueryLanguage(sm.QueryLanguage); err != nil {
		return nil, fmt.Errorf("parse state machine: %w", err)
	}
	return sm, nil
}

// checkQueryLanguage rejects JSONata: its fields (Arguments, Output, ...)
// and expressions mean something else, and this model would misread them.
func checkQueryLanguage(ql string) error {
	if ql != "" && ql != QueryLanguageJSONPath {
		return fmt.Errorf("QueryLanguage %q is not supported (only %s)", ql, QueryLanguageJSONPath)
	}
	return nil
}

// Encode writes sm as deterministic JSON: keys in the documented field
// order, states in definition order, payload members in their stored order,
// two-space indent, no HTML escaping, one trailing newline.
func Encode(sm *StateMachine) ([]byte, error) {
	return encodeIndent(sm)
}

func encodeIndent(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
