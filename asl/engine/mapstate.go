package engine

import (
	"container/heap"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"sync"
	"time"

	"github.com/serverless-elt/elt/asl/jsonpath"
)

func (x *execution) intField(v int, p *jsonpath.Path, input any, field string) (int, error) {
	if p == nil {
		return v, nil
	}
	val, err := (*optionalPath)(p).eval(input)
	if err != nil {
		return 0, err
	}
	r, ok := toRat(val)
	if !ok || r.Sign() < 0 || !r.IsInt() {
		return 0, &Error{Name: ErrRuntime, Cause: fmt.Sprintf("%s must reference a non-negative integer, got %s", field, jsonText(val))}
	}
	return int(r.Num().Int64()), nil
}

// iteration is the outcome of one Map item.
type iteration struct {
	input  any
	output any
	err    *Error
	start  time.Time
	stop   time.Time
	name   string // child execution of a distributed Map
	arn    string
}

// runMap runs a Map state: items from ItemsPath (or the ItemReader of a
// distributed Map), each through ItemSelector (or the legacy Parameters)
// and the ItemProcessor, at most MaxConcurrency at a time; the output
// lists the results in item order.
func (x *execution) runMap(ctx context.Context, th *thread, st *state, input any, ctxObj map[string]any) (any, error) {
	var items []any
	if st.itemReader != nil {
		var err error
		if items, err = x.readItems(ctx, st, input, ctxObj); err != nil {
			return nil, err
		}
	} else {
		v := input
		if st.itemsPath != nil {
			var err error
			if v, err = (*optionalPath)(st.itemsPath).eval(input); err != nil {
				return nil, err
			}
		}
		arr, ok := v.([]any)
		if !ok {
			return nil, &Error{Name: ErrRuntime, Cause: fmt.Sprintf("Map state '%s': ItemsPath must select an array, got %s", st.name, typeOfJSON(v))}
		}
		items = arr
	}
	conc, err := x.intField(st.maxConcurrency, st.maxConcPath, input, "MaxConcurrencyPath")
	if err != nil {
		return nil, err
	}

	// Item inputs: ItemSelector sees the state input and $$.Map.Item.
	inputs := make([]any, len(items))
	for i, it := range items {
		inputs[i] = it
		if st.itemSelector != nil {
			c := cloneContext(ctxObj)
			c["Map"] = map[string]any{"Item": map[string]any{"Index": json.Number(strconv.Itoa(i)), "Value": it}}
			if inputs[i], err = st.itemSelector.eval(input, c, x.env(input, c)); err != nil {
				return nil, err
			}
		}
	}
	if st.itemBatcher != nil {
		if inputs, err = x.batch(st, inputs, input, ctxObj); err != nil {
			return nil, err
		}
	}

	if st.distributed {
		return x.runDistributed(ctx, th, st, input, inputs, conc)
	}

	x.event(th, "MapStateStarted", map[string]any{"length": len(inputs)})
	workers := conc
	if workers == 0 {
		workers = x.eng.inlineConc
	}
	its, err := x.iterate(ctx, th, st, inputs, workers, false, true, func(ctx context.Context, child *thread, i int) (any, error) {
		return x.runProgram(ctx, child, st.processor, inputs[i])
	})
	if err != nil {
		return nil, err
	}
	results := make([]any, len(its))
	for i, it := range its {
		if it.err != nil {
			x.event(th, "MapStateFailed", nil)
			return nil, it.err
		}
		results[i] = it.output
	}
	x.event(th, "MapStateSucceeded", nil)
	return results, nil
}

func cloneContext(c map[string]any) map[string]any {
	out := make(map[string]any, len(c)+1)
	for k, v := range c {
		out[k] = v
	}
	return out
}

func typeOfJSON(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case map[string]any:
		return "an object"
	case []any:
		return "an array"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	default:
		return "a number"
	}
}

// iterate runs the item processor over inputs with at most workers at a
// time. With stopOnFailure the first failure cancels the rest (inline
// Map); otherwise every item runs and failures are recorded (distributed
// Map, which applies its tolerated-failure thresholds afterwards).
func (x *execution) iterate(ctx context.Context, th *thread, st *state, inputs []any, workers int, quiet, stopOnFailure bool,
	runItem func(ctx context.Context, child *thread, i int) (any, error)) ([]iteration, error) {
	its := make([]iteration, len(inputs))
	if workers <= 0 || workers > len(inputs) {
		workers = len(inputs)
	}
	ictx, cancel := context.WithCancel(ctx)
	defer cancel()
	var fe firstError
	var lanesMu sync.Mutex
	var lanes []Lane
	var histMu sync.Mutex // keeps MapIteration* events of one item adjacent to its start
	next := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				child := &thread{lane: th.lane.Fork(), prev: th.prev, quiet: th.quiet || quiet,
					mapItem: map[string]any{"Index": json.Number(strconv.Itoa(i)), "Value": inputs[i]}}
				histMu.Lock()
				x.event(child, "MapIterationStarted", map[string]any{"name": st.name, "index": i})
				histMu.Unlock()
				its[i].input = inputs[i]
				its[i].start = child.lane.Now()
				out, err := runItem(ictx, child, i)
				its[i].stop = child.lane.Now()
				lanesMu.Lock()
				lanes = append(lanes, child.lane)
				lanesMu.Unlock()
				if err != nil {
					var ae *Error
					if !errors.As(err, &ae) {
						fe.set(err)
						cancel()
						continue
					}
					its[i].err = ae
					x.event(child, "MapIterationFailed", map[string]any{"name": st.name, "index": i})
					if stopOnFailure {
						fe.set(ae)
						cancel()
					}
					continue
				}
				its[i].output = out
				x.event(child, "MapIterationSucceeded", map[string]any{"name": st.name, "index": i})
			}
		}()
	}
feed:
	for i := range inputs {
		select {
		case next <- i:
		case <-ictx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	th.lane.Join(lanes...)
	if th.lane.Virtual() && fe.get() == nil {
		// Every iteration ran on a lane forked at the Map's start. With at
		// most `workers` running at once, AWS starts item i when a slot
		// frees up, so the Map ends at the list-scheduling makespan of the
		// item durations in item order. Waiting out the difference also
		// lets the execution timeout fire where it would on AWS.
		if end := listScheduleEnd(its, workers); end.After(th.lane.Now()) {
			if err := th.lane.Sleep(ctx, end.Sub(th.lane.Now())); err != nil {
				return nil, err
			}
		}
	}
	if err := fe.get(); err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		var ae *Error
		if errors.As(err, &ae) {
			// Report the failure in the iteration slot order the caller scans.
			for i := range its {
				if its[i].err != nil {
					return its, nil
				}
			}
		}
		return nil, err
	}
	return its, nil
}

// runDistributed runs a distributed Map: each item is a child workflow
// execution (its events are not in the parent's history), failures are
// counted against ToleratedFailurePercentage/Count, and a ResultWriter
// writes the results to the object store.
func (x *execution) runDistributed(ctx context.Context, th *thread, st *state, input any, inputs []any, conc int) (any, error) {
	label := st.label
	if label == "" {
		label = st.name
	}
	runID := x.eng.newUUID()
	mapRunArn := fmt.Sprintf("arn:aws:states:%s:%s:mapRun:%s/%s:%s", DefaultRegion, LocalAccount, x.smName, label, runID)
	x.event(th, "MapStateStarted", map[string]any{"length": len(inputs)})
	x.event(th, "MapRunStarted", map[string]any{"mapRunArn": mapRunArn})
	workers := conc
	if workers == 0 {
		workers = 10000 // AWS runs up to 10,000 child executions at once
	}
	children := make([]Execution, len(inputs))
	its, err := x.iterate(ctx, th, st, inputs, workers, true, false, func(ctx context.Context, child *thread, i int) (any, error) {
		rec, out, err := x.runChild(ctx, child.lane, st, mapLabel(label), inputs[i])
		children[i] = rec
		return out, err
	})
	if err != nil {
		return nil, err
	}
	for i := range its {
		its[i].name, its[i].arn = children[i].Name, children[i].ExecutionArn
	}
	failed := 0
	for _, it := range its {
		if it.err != nil {
			failed++
		}
	}
	pct, err := x.floatField(st.toleratedPct, st.toleratedPctPath, input, "ToleratedFailurePercentagePath")
	if err != nil {
		return nil, err
	}
	cnt, err := x.intField(st.toleratedCount, st.toleratedCntPath, input, "ToleratedFailureCountPath")
	if err != nil {
		return nil, err
	}
	hasPct := st.hasToleratedPct || st.toleratedPctPath != nil
	hasCnt := st.hasToleratedCount || st.toleratedCntPath != nil
	exceeded := false
	if failed > 0 {
		switch {
		case !hasPct && !hasCnt:
			exceeded = true // default threshold: zero failures tolerated
		default:
			if hasCnt && failed > cnt {
				exceeded = true
			}
			if hasPct && len(its) > 0 && float64(failed)*100/float64(len(its)) > pct {
				exceeded = true
			}
		}
	}
	var written any
	if st.resultWriter != nil {
		if written, err = x.writeResults(ctx, st, input, mapRunArn, runID, label, its); err != nil {
			x.event(th, "MapRunFailed", map[string]any{"error": ErrResultWriterFailed, "cause": err.Error()})
			x.event(th, "MapStateFailed", nil)
			return nil, &Error{Name: ErrResultWriterFailed, Cause: err.Error()}
		}
	}
	if exceeded {
		cause := fmt.Sprintf("The specified tolerated failure threshold was exceeded: %d of %d items failed.", failed, len(its))
		if !hasPct && !hasCnt {
			for _, it := range its {
				if it.err != nil {
					cause = it.err.Cause
					break
				}
			}
		}
		x.event(th, "MapRunFailed", map[string]any{"error": ErrExceedToleratedFailure, "cause": cause})
		x.event(th, "MapStateFailed", nil)
		return nil, &Error{Name: ErrExceedToleratedFailure, Cause: cause}
	}
	x.event(th, "MapRunSucceeded", nil)
	x.event(th, "MapStateSucceeded", nil)
	if written != nil {
		return written, nil
	}
	results := make([]any, len(its))
	for i, it := range its {
		if it.err != nil {
			results[i] = map[string]any{"Error": it.err.Name, "Cause": it.err.Cause}
			continue
		}
		results[i] = it.output
	}
	return results, nil
}

func (x *execution) floatField(v float64, p *jsonpath.Path, input any, field string) (float64, error) {
	if p == nil {
		return v, nil
	}
	val, err := (*optionalPath)(p).eval(input)
	if err != nil {
		return 0, err
	}
	r, ok := toRat(val)
	if !ok || r.Sign() < 0 {
		return 0, &Error{Name: ErrRuntime, Cause: fmt.Sprintf("%s must reference a non-negative number", field)}
	}
	f, _ := r.Float64()
	return math.Min(f, 100), nil
}

// listScheduleEnd is when the last of the iterations ends if they start in
// item order, each as soon as one of `slots` slots is free, and each takes
// the (virtual) time it took on its own lane.
func listScheduleEnd(its []iteration, slots int) time.Time {
	if len(its) == 0 {
		return time.Time{}
	}
	origin := its[0].start
	if slots <= 0 || slots > len(its) {
		slots = len(its)
	}
	free := make(durationHeap, slots) // all slots free at the Map's start
	end := time.Duration(0)
	for _, it := range its {
		s := heap.Pop(&free).(time.Duration)
		f := s + it.stop.Sub(it.start)
		heap.Push(&free, f)
		end = max(end, f)
	}
	return origin.Add(end)
}

type durationHeap []time.Duration

func (h durationHeap) Len() int           { return len(h) }
func (h durationHeap) Less(i, j int) bool { return h[i] < h[j] }
func (h durationHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *durationHeap) Push(x any)        { *h = append(*h, x.(time.Duration)) }
func (h *durationHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// mapLabel makes a Map's Label (or state name) usable as the second part
// of its child executions' state machine name "MACHINE/LABEL".
func mapLabel(label string) string {
	b := []rune(label)
	for i, r := range b {
		if CheckName(string(r)) != nil {
			b[i] = '_'
		}
	}
	if len(b) > 40 {
		b = b[:40]
	}
	if len(b) == 0 {
		return "Map"
	}
	return string(b)
}

// runChild runs one item of a distributed Map as a child workflow
// execution of state machine "MACHINE/LABEL", with its own history and
// context object ($$.Execution is the child), persisted like any
// execution. A child that fails is an item failure; a child stopped by
// the parent's timeout or abort stops the parent the same way.
func (x *execution) runChild(ctx context.Context, lane Lane, st *state, label string, input any) (Execution, any, error) {
	e := x.eng
	smName := x.smName + "/" + label
	name := e.newUUID()
	cx := &execution{
		eng:    e,
		m:      x.m,
		smName: smName,
		arn:    ExecutionArn(smName, name),
		lane:   lane,
		input:  input,
		mocks:  x.mocks,
		mocked: x.mocked,
	}
	start := lane.Now()
	cx.rec = Execution{
		ExecutionArn:    cx.arn,
		StateMachineArn: StateMachineArn(smName),
		Name:            name,
		Status:          StatusRunning,
		StartDate:       start,
		Input:           jsonText(input),
	}
	cx.ctxExecution = map[string]any{
		"Id":           cx.arn,
		"Input":        input,
		"Name":         name,
		"RoleArn":      x.ctxExecution["RoleArn"],
		"StartTime":    start.UTC().Format(time.RFC3339Nano),
		"RedriveCount": json.Number("0"),
	}
	cx.ctxStateMachine = map[string]any{"Id": StateMachineArn(smName), "Name": smName}
	w, err := e.store.CreateExecution(ctx, cx.rec)
	if err != nil {
		return cx.rec, nil, &Error{Name: ErrRuntime, Cause: fmt.Sprintf("start child execution: %v", err)}
	}
	cx.writer = w
	cx.hist.sink = func(ev Event) {
		if err := w.Event(ev); err != nil {
			e.log.Warn("engine.history_write_failed", "execution", cx.arn, "err", err)
		}
	}
	cx.hist.limit = e.maxEvents
	cctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	cx.cancel = cancel
	cx.runWith(cctx, st.processor)
	rec := cx.record()
	switch rec.Status {
	case StatusSucceeded:
		out, err := decodeJSON([]byte(*rec.Output))
		if err != nil {
			return rec, nil, &Error{Name: ErrRuntime, Cause: err.Error()}
		}
		return rec, out, nil
	case StatusTimedOut:
		return rec, nil, &DeadlineError{Name: errExecutionTimeoutDeadline, At: *rec.StopDate}
	case StatusAborted:
		if err := ctx.Err(); err != nil {
			return rec, nil, err
		}
	}
	return rec, nil, &Error{Name: rec.Error, Cause: rec.Cause}
}
