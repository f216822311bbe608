package main

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	"github.com/gowaitgroup/waitgroup"
)

// A Result pairs an input with its output.
type Result struct {
	In, Out int
}

// Pipeline runs f on every input, at most limit at a time, and returns the
// results ordered by input. It stops at the first error, returning it, and
// when ctx is done, returning ctx's error; either way it returns only once
// every goroutine it started has ended.
//
// It is the classic fan-out/fan-in pipeline (a producer, workers, a closer
// that closes the results channel once the workers are done, a consumer)
// with the plumbing done by groups:
//
//   - the workers are tasks of a group with SetLimit, so fan-out is bounded
//     and the producer blocks instead of piling up goroutines;
//   - that group has CancelOnError, so the first failure cancels the
//     context of every worker and stops the producer;
//   - the outer group carries the caller's context and reports every error
//     of the workers through its link to them.
func Pipeline(ctx context.Context, inputs []int, limit int, f func(ctx context.Context, in int) (int, error)) ([]Result, error) {
	g := waitgroup.WithContext(ctx, waitgroup.GroupName("pipeline"))
	// Wait does not cancel the group's context: without Cancel it would stay
	// registered with ctx after the call, one per call.
	defer g.Cancel(nil)
	workers := g.Sub(waitgroup.GroupName("workers"), waitgroup.CancelOnError())
	workers.SetLimit(limit)
	results := make(chan Result)

	g.Go(func(context.Context) error {
		// Producer and closer in one task, in this order: the closer must
		// not wait for the workers before the last one has been started,
		// or it could see none running between two Go calls and close
		// results under a worker about to send.
		defer close(results)
		wctx := workers.Context()
		for _, in := range inputs {
			if wctx.Err() != nil {
				break // a worker failed, or the caller gave up
			}
			workers.Go(func(ctx context.Context) error {
				if ctx.Err() != nil {
					// Go may have waited for a slot while the pipeline
					// stopped: do not begin work nobody will use.
					return ctx.Err()
				}
				out, err := f(ctx, in)
				if err != nil && ctx.Err() != nil {
					// f failed because the pipeline is stopping: report
					// the stop as such, not as another failure.
					return ctx.Err()
				}
				if err != nil {
					return fmt.Errorf("input %d: %w", in, err)
				}
				select {
				case results <- Result{In: in, Out: out}:
					return nil
				case <-ctx.Done():
					return ctx.Err()
				}
			}, waitgroup.Name(fmt.Sprint("input ", in)))
		}
		// The workers' errors reach the caller through the link; here the
		// wait only orders the close after the last send.
		_ = workers.Wait(context.Background())
		return nil
	}, waitgroup.Name("producer"))

	var out []Result
	for r := range results {
		out = append(out, r)
	}
	// The consumer has seen results closed, so the producer has waited for
	// every worker: this Wait returns at once, with their errors.
	err := g.Wait(context.Background())
	if err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b Result) int { return cmp.Compare(a.In, b.In) })
	return out, nil
}
