package graceful_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"syscall"
	"testing"
	"testing/synctest"

	"github.com/gowaitgroup/waitgroup"
	"github.com/gowaitgroup/waitgroup/graceful"
	"github.com/gowaitgroup/waitgroup/waitgrouptest"
)

// TestRunEchoRule proves that Run judges what its tasks return after a
// shutdown by the rule of waitgrouptest.IsEcho, with the cause Run cancelled
// them with and ErrShutdown as the causes it asked for: an echo of that
// cancellation is success, a panic or a real error, even joined with an
// echo, is not. Both shutdown triggers are tried, since a context's cause
// makes Run's cause an error that wraps two.
func TestRunEchoRule(t *testing.T) {
	errDisk := errors.New("disk full")
	ends := []struct {
		name string
		end  func(ctx context.Context) error // called once ctx is done
		ok   bool
	}{
		{"ctx.Err()", func(ctx context.Context) error { return ctx.Err() }, true},
		{"wrapped ctx.Err()", func(ctx context.Context) error { return fmt.Errorf("read: %w", ctx.Err()) }, true},
		{"the cause", context.Cause, true},
		{"wrapped cause", func(ctx context.Context) error { return fmt.Errorf("read: %w", context.Cause(ctx)) }, true},
		{"ErrShutdown", func(context.Context) error { return graceful.ErrShutdown }, true},
		{"real error", func(context.Context) error { return errDisk }, false},
		{"real error joined with ctx.Err()", func(ctx context.Context) error { return errors.Join(errDisk, ctx.Err()) }, false},
		{"DeadlineExceeded", func(context.Context) error { return context.DeadlineExceeded }, false},
		{"panic(ctx.Err())", func(ctx context.Context) error { panic(ctx.Err()) }, false},
	}
	triggers := []struct {
		name string
		fire func(chan<- os.Signal, context.CancelCauseFunc)
	}{
		{"signal", func(c chan<- os.Signal, _ context.CancelCauseFunc) { c <- syscall.SIGTERM }},
		{"context with a cause", func(_ chan<- os.Signal, cancel context.CancelCauseFunc) { cancel(errors.New("deploy")) }},
	}
	for _, tr := range triggers {
		for _, e := range ends {
			t.Run(tr.name+"/"+e.name, func(t *testing.T) {
				synctest.Test(t, func(t *testing.T) {
					ctx, cancel := context.WithCancelCause(t.Context())
					defer cancel(nil)
					sigs := make(chan os.Signal, 1)
					// What the task ended with, as the group records it,
					// and the cause it saw.
					var taskErr, cause error
					result := make(chan error, 1)
					go func() {
						result <- graceful.Run(ctx, func(g *waitgroup.Group) error {
							g.Go(func(ctx context.Context) (err error) {
								<-ctx.Done()
								cause = context.Cause(ctx)
								defer func() {
									if v := recover(); v != nil {
										taskErr = &waitgroup.PanicError{Value: v}
										panic(v)
									}
									taskErr = err
								}()
								return e.end(ctx)
							})
							return nil
						}, graceful.Signals(sigs))
					}()
					synctest.Wait()
					tr.fire(sigs, cancel)
					err := <-result
					if got := err == nil; got != e.ok {
						t.Fatalf("Run = %v; want success %v", err, e.ok)
					}
					if !errors.Is(cause, graceful.ErrShutdown) {
						t.Fatalf("the task saw cause %v, want one matching ErrShutdown", cause)
					}
					if got := waitgrouptest.IsEcho(taskErr, cause, graceful.ErrShutdown); got != e.ok {
						t.Errorf("waitgrouptest.IsEcho(%v, %v, ErrShutdown) = %v, Run's verdict %v", taskErr, cause, got, e.ok)
					}
				})
			})
		}
	}
}
