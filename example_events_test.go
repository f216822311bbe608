package waitgroup_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gowaitgroup/waitgroup"
)

// A consumer whose broker is down at first is restarted after a backoff,
// and each failure and restart is reported when it happens, not when
// someone Waits.
func ExampleRestart() {
	g := waitgroup.New(waitgroup.Events(func(e waitgroup.Event) {
		fmt.Printf("%v, attempt %d: %v\n", e.Kind, e.Task.Attempt, e.Err)
	}))
	connected := make(chan struct{})
	tries := 0 // only the task's goroutine uses it, one attempt at a time
	g.Go(func(ctx context.Context) error {
		tries++
		if tries < 3 {
			return fmt.Errorf("dial broker: connection refused (try %d)", tries)
		}
		close(connected)
		<-ctx.Done() // consume until the shutdown
		return ctx.Err()
	}, waitgroup.Name("consumer"), waitgroup.Restart(waitgroup.RestartPolicy{
		Initial:     10 * time.Millisecond,  // 500ms by default, doubling up to 30s
		MaxFailures: 5, Window: time.Minute, // then give up: Wait returns the error
	}))

	<-connected
	fmt.Println("connected")
	g.Cancel(nil) // no restart after this, even during a backoff
	fmt.Println("Wait:", g.Wait(context.Background()))
	// Output:
	// task failed, attempt 1: dial broker: connection refused (try 1)
	// task restarted, attempt 1: dial broker: connection refused (try 1)
	// task failed, attempt 2: dial broker: connection refused (try 2)
	// task restarted, attempt 2: dial broker: connection refused (try 2)
	// connected
	// Wait: context canceled
}

// A failure is reported from the failing task's goroutine as it happens,
// and a Wait that has been blocked for a while says what it still waits
// for, as a shutdown log would.
func ExampleEvents() {
	g := waitgroup.New(waitgroup.GroupName("server"),
		waitgroup.StillWaitingAfter(200*time.Millisecond),
		waitgroup.Events(func(e waitgroup.Event) {
			switch e.Kind {
			case waitgroup.TaskFailed:
				fmt.Printf("%s: %q failed: %v\n", e.Group, e.Task.Name, e.Err)
			case waitgroup.StillWaiting:
				fmt.Printf("%s: still waiting for %d task(s), the oldest %q\n", e.Group, e.Total, e.Pending[0].Name)
			}
		}))
	release := make(chan struct{})
	g.Go(func(ctx context.Context) error {
		<-release // ignores its context
		return nil
	}, waitgroup.Name("flusher"))
	g.Go(func(ctx context.Context) error {
		return errors.New("warm-up: cache unreachable")
	}, waitgroup.Name("warmer"))

	g.Cancel(nil)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	err := g.Wait(ctx)
	fmt.Println("gave up:", errors.Is(err, context.DeadlineExceeded))

	close(release)
	fmt.Println("then:", g.Wait(context.Background()))
	// Output:
	// server: "warmer" failed: warm-up: cache unreachable
	// server: still waiting for 1 task(s), the oldest "flusher"
	// gave up: true
	// then: warm-up: cache unreachable
}
