package waitgroup_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/gowaitgroup/waitgroup"
)

// Map replaces the errgroup fan-out that writes results[i] by hand: out[i]
// belongs to items[i] whatever fails, and every failure says which item.
func ExampleMap() {
	words := []string{"fan", "out", "", "in"}
	lengths, err := waitgroup.Map(context.Background(), words, func(ctx context.Context, w string) (int, error) {
		if w == "" {
			return -1, errors.New("empty word")
		}
		return len(w), nil
	}, waitgroup.Limit(2)) // at most 2 calls at once
	fmt.Println(lengths)
	fmt.Println(err)
	// Output:
	// [3 3 -1 2]
	// task 2: empty word
}

// With CancelOnError the first failure stops the others, which see it as
// their context's cause; their echoes of it are left out of the error.
func ExampleMap_cancelOnError() {
	items := []int{1, 2, 3}
	_, err := waitgroup.Map(context.Background(), items, func(ctx context.Context, i int) (int, error) {
		if i == 2 {
			return 0, errors.New("quota exceeded")
		}
		<-ctx.Done() // a slow call, cut short
		return 0, ctx.Err()
	}, waitgroup.CancelOnError())
	fmt.Println(err)
	// Output: task 1: quota exceeded
}

// MapSeq processes a stream in order, a few items at a time, pulling items
// only as results are consumed; breaking out of the loop stops the calls
// still running.
func ExampleMapSeq() {
	lines := slices.Values([]string{"alpha", "beta", "STOP", "gamma", "delta"})
	upper := func(ctx context.Context, line string) (string, error) {
		return strings.ToUpper(line), nil
	}
	for s, err := range waitgroup.MapSeq(context.Background(), lines, upper, waitgroup.Limit(2)) {
		if err != nil {
			fmt.Println("error:", err)
			break
		}
		if s == "STOP" {
			break // the calls for gamma and delta, if started, are cancelled
		}
		fmt.Println(s)
	}
	// Output:
	// ALPHA
	// BETA
}

// Results collects the values of tasks that differ, in the order they were
// started, over a group whose deadline, names and limit apply.
func ExampleResults() {
	g := waitgroup.New(waitgroup.Limit(4))
	r := waitgroup.NewResults[string](g)
	r.Go(func(ctx context.Context) (string, error) { return "user 42", nil }, waitgroup.Name("user"))
	r.Go(func(ctx context.Context) (string, error) { return "", errors.New("timeout") }, waitgroup.Name("orders"))
	r.Go(func(ctx context.Context) (string, error) { return "3 items", nil }, waitgroup.Name("cart"))
	vals, err := r.Wait(context.Background())
	fmt.Printf("%q\n", vals)
	fmt.Println(err)
	// Output:
	// ["user 42" "" "3 items"]
	// task 1 "orders": timeout
}

// Map's error joins one *TaskError per failure, one per line. For a log line
// or an HTTP body, count them and show the first.
func ExampleTaskError() {
	_, err := waitgroup.Map(context.Background(), []int{1, 2, 3, 4}, func(ctx context.Context, i int) (int, error) {
		if i%2 == 0 {
			return 0, fmt.Errorf("item %d is even", i)
		}
		return i, nil
	})
	var first *waitgroup.TaskError
	if errors.As(err, &first) { // the first in item order
		n := 1
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			n = len(j.Unwrap())
		}
		fmt.Printf("%d failed, first: item %d: %v\n", n, first.Index, first.Err)
	}
	// Output: 2 failed, first: item 1: item 2 is even
}
