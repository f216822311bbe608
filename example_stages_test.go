package waitgroup_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gowaitgroup/waitgroup"
)

// A service stops in stages: its intake first, then the writer that
// flushes what the intake accepted, then the file it writes to. The
// writer's context is not cancelled while the intake is still finishing
// the request in flight, so that request's event is written too.
func ExampleStages() {
	var stages waitgroup.Stages
	intake := stages.Add("intake", 5*time.Second)
	flush := stages.Add("flush", 5*time.Second)
	closing := stages.Add("close", time.Second)

	events := make(chan string, 100)
	var file strings.Builder // stands for the events file
	intake.Go(func(ctx context.Context) error {
		events <- "a"
		events <- "b"
		<-ctx.Done()  // the shutdown begins with the intake
		events <- "c" // a request in flight at that moment
		close(events)
		return nil
	}, waitgroup.Name("http server"))
	flush.Go(func(ctx context.Context) error {
		for e := range events { // until the intake has stopped
			file.WriteString(e + "\n")
		}
		return nil
	}, waitgroup.Name("writer"))
	closing.Go(func(ctx context.Context) error {
		<-ctx.Done() // only once the writer is done
		fmt.Print(file.String())
		return nil
	}, waitgroup.Name("file"))

	err := stages.Stop(context.Background(), errors.New("SIGTERM"))
	fmt.Println("stopped:", err)
	// Output:
	// a
	// b
	// c
	// stopped: <nil>
}

// A stage that misses its bound is named in the error, and the stages
// after it still get their turn: the file is closed although the flush is
// stuck.
func ExampleStages_missedBound() {
	stuck := make(chan struct{})
	defer close(stuck)
	var stages waitgroup.Stages
	stages.Add("flush", 10*time.Millisecond).Go(func(context.Context) error {
		<-stuck // a write that never returns
		return nil
	}, waitgroup.Name("writer"))
	stages.Add("close", time.Second).Go(func(ctx context.Context) error {
		<-ctx.Done()
		fmt.Println("close: the file is closed all the same")
		return nil
	})

	err := stages.Stop(context.Background(), nil)
	var se *waitgroup.StageError
	if errors.As(err, &se) {
		fmt.Println("late stage:", se.Stage, "bound", se.Bound)
		fmt.Println("stage timeout:", errors.Is(err, waitgroup.ErrStageTimeout))
		fmt.Println("pending:", se.Err.(*waitgroup.WaitError).Pending[0].Name)
	}
	// Output:
	// close: the file is closed all the same
	// late stage: flush bound 10ms
	// stage timeout: true
	// pending: writer
}
