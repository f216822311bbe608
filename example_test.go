package waitgroup_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gowaitgroup/waitgroup"
)

// Go and Wait replace go statements and a sync.WaitGroup; Wait returns every
// error.
func ExampleGroup_Go() {
	g := waitgroup.New()
	results := make([]int, 5)
	for i := range results {
		g.Go(func(ctx context.Context) error {
			if i == 3 {
				return fmt.Errorf("item %d: bad input", i)
			}
			results[i] = i * i // Wait synchronizes after this write
			return nil
		})
	}
	err := g.Wait(context.Background())
	fmt.Println(results, err)
	// Output: [0 1 4 0 16] item 3: bad input
}

// Add and Done track work whose start and end live in different methods,
// such as a listener opened in Start and closed in Close.
func ExampleGroup_Add() {
	g := waitgroup.New()
	id := g.Add(waitgroup.Name("listener"))

	fmt.Println(len(g.Pending()), "pending")
	fmt.Println(g.Done(id))
	fmt.Println(g.Done(id)) // a second Done is refused, not a negative count
	fmt.Println(g.Wait(context.Background()))
	// Output:
	// 1 pending
	// <nil>
	// waitgroup: unknown ID: #1 is already done
	// <nil>
}

// Wait with a deadline gives up, without leaking a goroutine, and names the
// tasks that are stuck.
func ExampleGroup_Wait() {
	g := waitgroup.New()
	stuck := make(chan struct{})
	g.Go(func(ctx context.Context) error { <-stuck; return nil }, waitgroup.Name("flush to S3"))

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	err := g.Wait(ctx)
	var we *waitgroup.WaitError
	if errors.As(err, &we) {
		fmt.Println(errors.Is(err, context.DeadlineExceeded), we.Total, we.Pending[0].Name)
	}

	close(stuck)
	fmt.Println(g.Wait(context.Background()))
	// Output:
	// true 1 flush to S3
	// <nil>
}

// Sub builds a tree: the parent's Wait waits for its own tasks, then for each
// linked group in order.
func ExampleGroup_Sub() {
	server := waitgroup.New(waitgroup.GroupName("server"))
	conns := server.Sub(waitgroup.GroupName("conns"))

	conns.Go(func(ctx context.Context) error {
		<-ctx.Done() // a connection handler, until shutdown
		return nil
	}, waitgroup.Name("conn 1"))

	for _, t := range server.Pending() {
		fmt.Println(t.Group, t.Name)
	}
	server.Cancel(errors.New("shutdown")) // reaches the Sub's context too
	fmt.Println(server.Wait(context.Background()))
	// Output:
	// conns conn 1
	// <nil>
}

// Link makes one group wait for another; a cycle panics at once instead of
// hanging later.
func ExampleGroup_Link() {
	a, b := waitgroup.New(waitgroup.GroupName("a")), waitgroup.New(waitgroup.GroupName("b"))
	a.Link(b)
	defer func() { fmt.Println(recover()) }()
	b.Link(a)
	// Output: waitgroup: Link would make a cycle: group "a" already waits for group "b"
}

// SetLimit bounds how many tasks run at once; TryGo never blocks.
func ExampleGroup_SetLimit() {
	g := waitgroup.New()
	g.SetLimit(1)
	release := make(chan struct{})
	g.Go(func(ctx context.Context) error { <-release; return nil })
	fmt.Println(g.TryGo(func(ctx context.Context) error { return nil }))
	close(release)
	fmt.Println(g.Wait(context.Background()))
	// Output:
	// false
	// <nil>
}

// With CancelOnError the first failure cancels the others, and is the cause
// they see; their echoes of the cancellation are left out of Wait's error.
func ExampleCancelOnError() {
	g := waitgroup.New(waitgroup.CancelOnError())
	g.Go(func(ctx context.Context) error {
		<-ctx.Done()
		fmt.Println("sibling stopped:", context.Cause(ctx))
		return ctx.Err()
	})
	g.Go(func(ctx context.Context) error { return errors.New("disk full") })
	fmt.Println(g.Wait(context.Background()))
	// Output:
	// sibling stopped: disk full
	// disk full
}

// Pending lists what a group still waits for, across linked groups.
func ExampleGroup_Pending() {
	g := waitgroup.New(waitgroup.GroupName("api"))
	flush := g.Add(waitgroup.Name("flush"))
	for _, t := range g.Pending() {
		fmt.Printf("%v %s in %s\n", t.ID, t.Name, t.Group)
	}
	g.Done(flush)
	fmt.Println(len(g.Pending()))
	// Output:
	// #1 flush in api
	// 0
}

// A panic in a task becomes a *PanicError with the stack; the process lives.
func ExamplePanicError() {
	g := waitgroup.New()
	g.Go(func(ctx context.Context) error { panic("nil map write") })
	var pe *waitgroup.PanicError
	if errors.As(g.Wait(context.Background()), &pe) {
		fmt.Println("recovered:", pe.Value, len(pe.Stack) > 0)
	}
	// Output: recovered: nil map write true
}
