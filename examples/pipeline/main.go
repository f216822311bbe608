// Command pipeline demonstrates a fan-out/fan-in pipeline built on waitgroup:
// a bounded number of workers (SetLimit), a closer that closes the results
// channel once every worker is done, and cancellation of the whole pipeline
// on the first error (CancelOnError) or when the caller's context ends.
//
// Run it with no arguments; its output is the same on every run.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"
)

func main() {
	if err := run(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "pipeline:", err)
		os.Exit(1)
	}
}

// errOffline is the failure of one input in the demo.
var errOffline = errors.New("sensor offline")

// work stands for a call that takes d, such as a request to another service,
// and gives up when ctx ends.
func work(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func run(w io.Writer) error {
	inputs := make([]int, 12)
	for i := range inputs {
		inputs[i] = i + 1
	}
	square := func(ctx context.Context, in int) (int, error) {
		if err := work(ctx, 5*time.Millisecond); err != nil {
			return 0, err
		}
		return in * in, nil
	}

	// 1. Every input, three at a time.
	results, err := Pipeline(context.Background(), inputs, 3, square)
	if err != nil {
		return err
	}
	fmt.Fprintln(w, "squares, 3 workers:")
	for _, r := range results {
		fmt.Fprintf(w, "  %2d -> %3d\n", r.In, r.Out)
	}

	// 2. Input 7 fails: the others are cancelled, the producer stops, and
	// the error is the failure itself, not the cancellations it caused.
	failing := func(ctx context.Context, in int) (int, error) {
		if in == 7 {
			return 0, errOffline
		}
		return square(ctx, in)
	}
	_, err = Pipeline(context.Background(), inputs, 3, failing)
	if !errors.Is(err, errOffline) {
		return fmt.Errorf("failing pipeline: got %v, want %v", err, errOffline)
	}
	fmt.Fprintln(w, "one input fails: stopped with:", err)

	// 3. The caller's deadline passes before the work is done.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	slow := func(ctx context.Context, in int) (int, error) {
		if err := work(ctx, 20*time.Millisecond); err != nil {
			return 0, err
		}
		return in, nil
	}
	_, err = Pipeline(ctx, inputs, 2, slow)
	if !errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("slow pipeline: got %v, want %v", err, context.DeadlineExceeded)
	}
	fmt.Fprintln(w, "deadline passes: stopped with:", err)
	return nil
}
