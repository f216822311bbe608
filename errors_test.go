package waitgroup_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gowaitgroup/waitgroup"
)

type codeError struct{ code int }

func (e *codeError) Error() string { return fmt.Sprintf("code %d", e.code) }

// sliceError is not comparable: == on two of them in interfaces panics.
type sliceError []string

func (e sliceError) Error() string { return strings.Join(e, ",") }

// inOrder runs the tasks one after the other, each finishing before the
// next starts, so that the order of their errors is known.
func inOrder(t *testing.T, g *waitgroup.Group, tasks ...func(context.Context) error) {
	t.Helper()
	for _, f := range tasks {
		g.Go(f)
		synctest.Wait()
	}
}

func fail(err error) func(context.Context) error {
	return func(context.Context) error { return err }
}

func TestWaitJoinsAllErrorsInOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := waitgroup.New()
		e1, e3 := errors.New("first"), errors.New("third")
		e2 := &codeError{2}
		inOrder(t, g, fail(e1), fail(nil), fail(e2), fail(e3))
		err := g.Wait(context.Background())
		if got, want := err.Error(), "first\ncode 2\nthird"; got != want {
			t.Fatalf("Wait = %q, want %q", got, want)
		}
		var ce *codeError
		if !errors.Is(err, e1) || !errors.Is(err, e3) || !errors.As(err, &ce) || ce != e2 {
			t.Fatalf("errors.Is/As do not find every error in %v", err)
		}
		// A single error comes back as itself, as from errgroup.
		g2 := waitgroup.New()
		inOrder(t, g2, fail(nil), fail(e1))
		if err := g2.Wait(context.Background()); err != e1 {
			t.Fatalf("Wait = %#v, want the task's error itself", err)
		}
	})
}

func TestCancellationEchoesAreDropped(t *testing.T) {
	errReal := errors.New("disk full")
	errStop := errors.New("shutting down")
	echoCanceled := func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }
	echoWrapped := func(ctx context.Context) error { <-ctx.Done(); return fmt.Errorf("read: %w", ctx.Err()) }
	echoCause := func(ctx context.Context) error { <-ctx.Done(); return context.Cause(ctx) }
	tests := []struct {
		name   string
		opts   []waitgroup.Option
		cancel func(g *waitgroup.Group, parentCancel context.CancelFunc)
		tasks  []func(context.Context) error
		want   []error // matched with errors.Is, in order of the message
		msg    string
	}{
		{
			name:   "Cancel with real error",
			cancel: func(g *waitgroup.Group, _ context.CancelFunc) { g.Cancel(nil) },
			tasks:  []func(context.Context) error{echoCanceled, fail(errReal), echoWrapped},
			want:   []error{errReal},
			msg:    "disk full",
		},
		{
			name:   "Cancel with cause, only echoes",
			cancel: func(g *waitgroup.Group, _ context.CancelFunc) { g.Cancel(errStop) },
			tasks:  []func(context.Context) error{echoCause, echoCause, echoCanceled},
			want:   []error{errStop},
			msg:    "shutting down",
		},
		{
			name:   "parent cancelled",
			cancel: func(_ *waitgroup.Group, parentCancel context.CancelFunc) { parentCancel() },
			tasks:  []func(context.Context) error{echoWrapped, fail(errReal)},
			want:   []error{errReal},
			msg:    "disk full",
		},
		{
			name:  "CancelOnError keeps the cause once",
			opts:  []waitgroup.Option{waitgroup.CancelOnError()},
			tasks: []func(context.Context) error{echoCause, echoCanceled, fail(errReal), echoCause},
			want:  []error{errReal},
			msg:   "disk full",
		},
		{
			name:  "not cancelled: Canceled from elsewhere is real",
			tasks: []func(context.Context) error{fail(context.Canceled), fail(errReal)},
			want:  []error{context.Canceled, errReal},
			msg:   "context canceled\ndisk full",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				parent, parentCancel := context.WithCancel(context.Background())
				defer parentCancel()
				g := waitgroup.WithContext(parent, tt.opts...)
				for _, f := range tt.tasks[:len(tt.tasks)-1] {
					g.Go(f)
				}
				synctest.Wait()
				if tt.cancel != nil {
					tt.cancel(g, parentCancel)
				}
				synctest.Wait()
				g.Go(tt.tasks[len(tt.tasks)-1])
				err := g.Wait(context.Background())
				for _, w := range tt.want {
					if !errors.Is(err, w) {
						t.Errorf("Wait = %v, want it to match %v", err, w)
					}
				}
				if err == nil || err.Error() != tt.msg {
					t.Errorf("Wait = %q, want %q", err, tt.msg)
				}
			})
		})
	}
}

func TestCancelOnError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		errBoom := errors.New("boom")
		g := waitgroup.New(waitgroup.CancelOnError())
		sibling := make(chan error, 1)
		g.Go(func(ctx context.Context) error { <-ctx.Done(); sibling <- context.Cause(ctx); return ctx.Err() })
		g.Go(fail(errBoom))
		if err := g.Wait(context.Background()); err != errBoom {
			t.Fatalf("Wait = %v, want %v", err, errBoom)
		}
		if got := <-sibling; got != errBoom {
			t.Fatalf("sibling saw cause %v, want %v", got, errBoom)
		}
	})
}

func TestNoCancelOnErrorByDefault(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := waitgroup.New()
		sub := g.Sub()
		g.Go(fail(errors.New("one bad connection")))
		sub.Go(fail(errors.New("another")))
		synctest.Wait()
		if g.Context().Err() != nil || sub.Context().Err() != nil {
			t.Fatal("a task error cancelled the group without CancelOnError")
		}
		g.Wait(context.Background())
	})
}

func TestSubSeesParentCancellation(t *testing.T) {
	g := waitgroup.New()
	sub := g.Sub().Sub()
	errStop := errors.New("stop")
	g.Cancel(errStop)
	if got := context.Cause(sub.Context()); got != errStop {
		t.Fatalf("sub-sub cause = %v, want %v", got, errStop)
	}
}

func TestLinkedErrorsReported(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := waitgroup.New()
		sub := g.Sub()
		errOwn := errors.New("own")
		errDeadline := fmt.Errorf("query: %w", context.DeadlineExceeded)
		inOrder(t, g, fail(errOwn))
		inOrder(t, sub, fail(errDeadline))
		sub.Go(func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() })
		other := waitgroup.New() // linked, but not a Sub: its own context
		g.Link(other)
		other.Go(func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() })
		other.Cancel(nil)
		g.Cancel(nil) // g's cancellation must not drop the sub's deadline error
		err := g.Wait(context.Background())
		if !errors.Is(err, errOwn) || !errors.Is(err, errDeadline) {
			t.Fatalf("Wait = %v, want own and linked errors", err)
		}
		if got, want := err.Error(), "own\nquery: context deadline exceeded"; got != want {
			t.Fatalf("Wait = %q, want %q", got, want)
		}
	})
}

func TestErrorRounds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := waitgroup.New()
		e1, e2 := errors.New("round 1"), errors.New("round 2")
		inOrder(t, g, fail(e1))
		first := g.Wait(context.Background())
		if first != e1 {
			t.Fatalf("Wait = %v, want %v", first, e1)
		}
		if again := g.Wait(context.Background()); again != e1 {
			t.Fatalf("second Wait without new work = %v, want the same %v", again, e1)
		}
		inOrder(t, g, fail(e2))
		if err := g.Wait(context.Background()); err != e2 {
			t.Fatalf("Wait of round 2 = %v, want only %v", err, e2)
		}
		inOrder(t, g, fail(nil))
		if err := g.Wait(context.Background()); err != nil {
			t.Fatalf("Wait of a clean round 3 = %v", err)
		}
		// Errors of an unreported round accumulate across idle periods, so a
		// failure nobody waited for yet is not lost.
		inOrder(t, g, fail(e1))
		inOrder(t, g, fail(e2))
		if err := g.Wait(context.Background()); !errors.Is(err, e1) || !errors.Is(err, e2) {
			t.Fatalf("Wait = %v, want both unreported errors", err)
		}
	})
}

func TestErrorBound(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := waitgroup.New()
		n := waitgroup.MaxErrors + 36
		for i := range n {
			g.Go(fail(&codeError{i}))
			synctest.Wait()
		}
		err := g.Wait(context.Background())
		if !errors.Is(err, waitgroup.ErrTooManyErrors) {
			t.Fatalf("Wait = %v, want ErrTooManyErrors", err)
		}
		lines := strings.Split(err.Error(), "\n")
		if len(lines) != waitgroup.MaxErrors+1 || lines[0] != "code 0" || !strings.Contains(lines[len(lines)-1], "36 more") {
			t.Fatalf("%d lines, first %q, last %q", len(lines), lines[0], lines[len(lines)-1])
		}
	})
}

func TestUncomparableErrors(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := waitgroup.New(waitgroup.CancelOnError())
		inOrder(t, g, fail(sliceError{"a"}), fail(sliceError{"b"}))
		// No panic comparing them with the cause; both are reported.
		if err := g.Wait(context.Background()); err == nil || err.Error() != "a\nb" {
			t.Fatalf("Wait = %v", err)
		}
	})
}

func TestPanicBecomesError(t *testing.T) {
	errInner := errors.New("inner")
	tests := []struct {
		name    string
		value   any
		unwraps error
	}{
		{"string", "oops", nil},
		{"error", errInner, errInner},
		{"nil", nil, nil}, // a *runtime.PanicNilError since Go 1.21
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := waitgroup.New(waitgroup.CancelOnError())
			g.Go(func(context.Context) error { panicky(tt.value); return nil })
			err := g.Wait(context.Background())
			var pe *waitgroup.PanicError
			if !errors.As(err, &pe) {
				t.Fatalf("Wait = %v, want a *PanicError", err)
			}
			if tt.value != nil && pe.Value != tt.value {
				t.Errorf("Value = %v, want %v", pe.Value, tt.value)
			}
			if tt.unwraps != nil && !errors.Is(err, tt.unwraps) {
				t.Errorf("%v does not unwrap to %v", err, tt.unwraps)
			}
			if !strings.Contains(string(pe.Stack), "waitgroup_test.panicky") {
				t.Errorf("stack lacks the panicking function:\n%s", pe.Stack)
			}
			// The message names the task (here by its function) before the value.
			if !strings.HasPrefix(pe.Error(), `waitgroup: task "waitgroup_test.TestPanicBecomesError.func1.1 (errors_test.go:`) ||
				pe.Task == "" || !strings.Contains(pe.Error(), pe.Task+`" panicked: `) {
				t.Errorf("message %q", pe.Error())
			}
			if context.Cause(g.Context()) != err {
				t.Errorf("CancelOnError cause = %v, want the panic", context.Cause(g.Context()))
			}
		})
	}
}

//go:noinline
func panicky(v any) { panic(v) }

func TestGoexitCountsDone(t *testing.T) {
	g := waitgroup.New()
	g.Go(func(context.Context) error { runtime.Goexit(); return errors.New("unreachable") })
	if err := g.Wait(context.Background()); err != nil {
		t.Fatalf("Wait = %v", err)
	}
}

func TestWaitErrorCarriesOnlyRealErrors(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := waitgroup.New()
		g.Go(func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() })
		stuck := g.Add(waitgroup.Name("stuck"))
		g.Cancel(nil)
		synctest.Wait()
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		err := g.Wait(ctx)
		var we *waitgroup.WaitError
		if !errors.As(err, &we) || we.Errs != nil || errors.Is(err, context.Canceled) {
			t.Fatalf("Wait = %v; want a deadline WaitError without the echoed cancellation", err)
		}
		errDisk := errors.New("disk full")
		g.Go(fail(errDisk))
		synctest.Wait()
		err = g.Wait(ctx)
		if !errors.As(err, &we) || we.Errs != errDisk || !errors.Is(err, errDisk) ||
			!strings.HasSuffix(err.Error(), "errors before giving up: disk full") {
			t.Fatalf("Wait = %v; want the real error in the WaitError", err)
		}
		g.Done(stuck)
	})
}
