package engine

import (
	"context"
	"errors"
	"sync"
)

// firstError keeps the error that stopped a group of branches or
// iterations: the first real failure, not the cancellations it caused.
type firstError struct {
	mu  sync.Mutex
	err error
}

func (f *firstError) set(err error) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err == nil {
		f.err = err
		return true
	}
	var ae *Error
	if !errors.As(f.err, &ae) && errors.As(err, &ae) {
		// Prefer a States error over a context error from the same group.
		f.err = err
	}
	return false
}

func (f *firstError) get() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.err
}

// runParallel runs every branch concurrently on the same input. The
// output is the array of branch outputs in branch order. When a branch
// fails the other branches are stopped and the state fails with that
// branch's error.
func (x *execution) runParallel(ctx context.Context, th *thread, st *state, input any) (any, error) {
	x.event(th, "ParallelStateStarted", nil)
	bctx, cancel := context.WithCancel(ctx)
	defer cancel()
	results := make([]any, len(st.branches))
	lanes := make([]Lane, len(st.branches))
	var fe firstError
	var wg sync.WaitGroup
	for i, b := range st.branches {
		child := &thread{lane: th.lane.Fork(), prev: th.prev, mapItem: th.mapItem, quiet: th.quiet}
		lanes[i] = child.lane
		wg.Add(1)
		go func() {
			defer wg.Done()
			out, err := x.runProgram(bctx, child, b, input)
			if err != nil {
				fe.set(err)
				cancel()
				return
			}
			results[i] = out
		}()
	}
	wg.Wait()
	th.lane.Join(lanes...)
	if err := fe.get(); err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		x.event(th, "ParallelStateFailed", nil)
		return nil, err
	}
	x.event(th, "ParallelStateSucceeded", nil)
	return results, nil
}
