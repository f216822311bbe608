package waitgrouptest_test

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gowaitgroup/waitgroup"
	"github.com/gowaitgroup/waitgroup/waitgrouptest"
)

var (
	errReal = errors.New("disk full")
	errStop = errors.New("stop")
)

// isCanceled matches context.Canceled through an Is method of its own.
type isCanceled struct{}

func (isCanceled) Error() string        { return "request canceled" }
func (isCanceled) Is(target error) bool { return target == context.Canceled }

// uncomparable is an error type that == would panic on.
type uncomparable []string

func (u uncomparable) Error() string { return strings.Join(u, ",") }

// emptyJoin joins nothing.
type emptyJoin struct{}

func (emptyJoin) Error() string   { return "nothing" }
func (emptyJoin) Unwrap() []error { return nil }

func TestIsEcho(t *testing.T) {
	tests := []struct {
		name   string
		err    error
		causes []error
		want   bool
	}{
		{"nil", nil, nil, false},
		{"Canceled", context.Canceled, nil, true},
		{"wrapped Canceled", fmt.Errorf("read: %w", context.Canceled), nil, true},
		{"Canceled by Is method", isCanceled{}, nil, true},
		{"DeadlineExceeded is a deadline of the task's own", context.DeadlineExceeded, nil, false},
		{"real error", errReal, nil, false},
		{"join of echoes", errors.Join(context.Canceled, fmt.Errorf("write: %w", context.Canceled)), nil, true},
		{"join of a real error and an echo", errors.Join(errReal, context.Canceled), nil, false},
		{"wrapped join of a real error and an echo", fmt.Errorf("close: %w", errors.Join(context.Canceled, errReal)), nil, false},
		{"two %w, one real", fmt.Errorf("%w after %w", context.Canceled, errReal), nil, false},
		{"empty join", emptyJoin{}, nil, false},
		{"panic(ctx.Err())", &waitgroup.PanicError{Value: context.Canceled}, nil, false},
		{"wrapped panic(ctx.Err())", fmt.Errorf("task: %w", &waitgroup.PanicError{Value: context.Canceled}), nil, false},
		{"give-up", &waitgroup.WaitError{Err: context.Canceled, Cause: context.Canceled}, nil, false},
		{"the cause", errStop, []error{errStop}, true},
		{"the cause, wrapped", fmt.Errorf("read: %w", errStop), []error{nil, errStop}, true},
		{"the cause, joined with Canceled", errors.Join(errStop, context.Canceled), []error{errStop}, true},
		{"a cause not given", errStop, nil, false},
		{"a nil cause is ignored", errReal, []error{nil}, false},
		{"uncomparable error", uncomparable{"a"}, []error{uncomparable{"a"}}, false},
		{"uncomparable cause", errReal, []error{uncomparable{"a"}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := waitgrouptest.IsEcho(tt.err, tt.causes...); got != tt.want {
				t.Errorf("IsEcho(%v, %v) = %v, want %v", tt.err, tt.causes, got, tt.want)
			}
		})
	}
}

// TestWaitEchoRule proves the rule Wait shares with Run and graceful.Run: an
// error that only echoes a cancellation the test asked for is success, and
// nothing else is; when an echo-like error fails, the message says why.
func TestWaitEchoRule(t *testing.T) {
	echo := func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }
	tests := []struct {
		name   string
		cancel func(g *waitgroup.Group, parent context.CancelFunc)
		task   func(ctx context.Context) error
		want   []string
	}{
		{"return ctx.Err() after Cancel(nil)", func(g *waitgroup.Group, _ context.CancelFunc) { g.Cancel(nil) }, echo, nil},
		{"return ctx.Err() after Cancel(cause)", func(g *waitgroup.Group, _ context.CancelFunc) { g.Cancel(errStop) }, echo, nil},
		{"return ctx.Err() after the parent is cancelled", func(_ *waitgroup.Group, parent context.CancelFunc) { parent() }, echo, nil},
		{"wrapped ctx.Err()", func(g *waitgroup.Group, _ context.CancelFunc) { g.Cancel(nil) },
			func(ctx context.Context) error { <-ctx.Done(); return fmt.Errorf("read: %w", ctx.Err()) }, nil},
		{"Canceled without a cancellation",
			nil,
			func(context.Context) error { return context.Canceled },
			[]string{"Fatalf: waitgrouptest: Wait failed: context canceled\n(an error that only echoes a cancellation counts as success once the group's context is done; it was not cancelled)"}},
		{"the cause", func(g *waitgroup.Group, _ context.CancelFunc) { g.Cancel(errStop) },
			func(ctx context.Context) error { <-ctx.Done(); return context.Cause(ctx) },
			[]string{"Fatalf: waitgrouptest: Wait failed: stop\n(this is the cause the group was cancelled with, which Wait cannot tell from the error of a task that cancelled a CancelOnError group: have the tasks return ctx.Err())"}},
		{"an echo joined with a real error", func(g *waitgroup.Group, _ context.CancelFunc) { g.Cancel(nil) },
			func(ctx context.Context) error { <-ctx.Done(); return errors.Join(errReal, ctx.Err()) },
			[]string{"Fatalf: waitgrouptest: Wait failed: disk full\ncontext canceled"}},
		{"a real error after Cancel", func(g *waitgroup.Group, _ context.CancelFunc) { g.Cancel(nil) },
			func(ctx context.Context) error { <-ctx.Done(); return errReal },
			[]string{"Fatalf: waitgrouptest: Wait failed: disk full"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				parent, cancelParent := context.WithCancel(context.Background())
				defer cancelParent()
				g := waitgroup.WithContext(parent)
				g.Go(tt.task)
				if tt.cancel != nil {
					synctest.Wait()
					tt.cancel(g, cancelParent)
				}
				ft := &fakeTB{}
				ft.run(func(tb waitgrouptest.TB) { waitgrouptest.Wait(tb, g, time.Second) })
				wantMessages(t, ft, tt.want...)
			})
		})
	}
}

// TestWaitPanicOfEcho proves that a task that panics with ctx.Err() fails
// Wait although the group was cancelled: a panic is never an echo.
func TestWaitPanicOfEcho(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := waitgroup.New()
		g.Go(func(ctx context.Context) error { <-ctx.Done(); panic(ctx.Err()) })
		synctest.Wait()
		g.Cancel(nil)
		ft := &fakeTB{}
		ft.run(func(tb waitgrouptest.TB) { waitgrouptest.Wait(tb, g, time.Second) })
		msgs := ft.messages()
		const head = "Fatalf: waitgrouptest: Wait failed: waitgroup: task \"waitgrouptest_test.TestWaitPanicOfEcho.func1.1 (echo_test.go:131)\" panicked: context canceled\n\ngoroutine "
		if len(msgs) != 1 || !strings.HasPrefix(msgs[0], head) {
			t.Fatalf("got %q, want one message starting %q", msgs, head)
		}
	})
}

// canceledLink is a Link other than a Group, without a Context method,
// whose Wait returns context.Canceled.
type canceledLink struct{}

func (canceledLink) Wait(context.Context) error { return context.Canceled }

func TestWaitEchoFromLinkWithoutContext(t *testing.T) {
	ft := &fakeTB{}
	ft.run(func(tb waitgrouptest.TB) { waitgrouptest.Wait(tb, canceledLink{}, time.Second) })
	wantMessages(t, ft, "Fatalf: waitgrouptest: Wait failed: context canceled\n(an error that only echoes a cancellation counts as success once the group's context is done; this Link has no Context method to tell)")
}

// TestRunEchoRule proves the rule for Run: after Stop cancels run's
// context, run may return an echo of it; nothing else passes, and an echo
// returned before Stop does not either.
func TestRunEchoRule(t *testing.T) {
	tests := []struct {
		name string
		run  func(ctx context.Context) error
		want []string
	}{
		{"ctx.Err()", func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }, nil},
		{"wrapped ctx.Err()", func(ctx context.Context) error { <-ctx.Done(); return fmt.Errorf("serve: %w", ctx.Err()) }, nil},
		{"nil", func(ctx context.Context) error { <-ctx.Done(); return nil }, nil},
		{"nil before Stop", func(context.Context) error { return nil }, nil},
		{"an echo joined with a real error",
			func(ctx context.Context) error {
				<-ctx.Done()
				return errors.Join(errors.New("flush failed"), ctx.Err())
			},
			[]string{"Errorf: waitgrouptest: run failed: flush failed\ncontext canceled"}},
		{"DeadlineExceeded", func(ctx context.Context) error { <-ctx.Done(); return context.DeadlineExceeded },
			[]string{"Errorf: waitgrouptest: run failed: context deadline exceeded"}},
		{"Canceled before Stop", func(context.Context) error { return context.Canceled },
			[]string{"Errorf: waitgrouptest: run failed: context canceled (returned before Stop cancelled its context)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ft := &fakeTB{}
				ft.run(func(tb waitgrouptest.TB) {
					s := waitgrouptest.Run(tb, tt.run)
					synctest.Wait() // run has returned or is blocked on ctx
					s.Stop()
				})
				wantMessages(t, ft, tt.want...)
			})
		})
	}
}

// TestRunPanicOfEcho proves that a run that panics with ctx.Err() fails.
func TestRunPanicOfEcho(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ft := &fakeTB{}
		ft.run(func(tb waitgrouptest.TB) {
			waitgrouptest.Run(tb, func(ctx context.Context) error { <-ctx.Done(); panic(ctx.Err()) }).Stop()
		})
		msgs := ft.messages()
		const head = "Errorf: waitgrouptest: run failed: panic: context canceled\n\ngoroutine "
		if len(msgs) != 1 || !strings.HasPrefix(msgs[0], head) {
			t.Fatalf("got %q, want one message starting %q", msgs, head)
		}
	})
}

// pendingRE matches a pending time, which for a task added outside a bubble
// and listed inside it is a large negative duration that depends on the
// date.
var pendingRE = regexp.MustCompile(`pending -[0-9hms.]+`)

// TestGroupFromOutsideBubble proves that the tasks of a group made outside
// a synctest bubble and listed inside it are flagged, since their pending
// times are on another clock (a group made outside keeps the real clock,
// even for tasks added inside), and that those of a group made inside are
// not. The task lines themselves are the core package's (TaskInfo.String).
func TestGroupFromOutsideBubble(t *testing.T) {
	g := waitgroup.New(waitgroup.GroupName("svc"))
	outside := g.Add(waitgroup.Name("outside"))
	defer g.Done(outside)
	synctest.Test(t, func(t *testing.T) {
		inside := g.Add(waitgroup.Name("inside"))
		defer g.Done(inside)
		time.Sleep(time.Second)
		ft := &fakeTB{}
		ft.run(func(tb waitgrouptest.TB) { waitgrouptest.Wait(tb, g, 2*time.Second) })
		ft.run(func(tb waitgrouptest.TB) { waitgrouptest.CheckIdle(tb, g) })
		line := map[string]string{} // task name -> its line, pending time masked
		for _, task := range g.Pending() {
			line[task.Name] = "\n\t" + pendingRE.ReplaceAllString(task.String(), "pending -X")
		}
		if !strings.HasSuffix(line["inside"], ", pending -X") || !strings.HasSuffix(line["outside"], ", pending -X") {
			t.Fatalf("pending times: inside %q, outside %q", line["inside"], line["outside"])
		}
		const note = "\n(2 of these tasks belong to a group made outside this synctest bubble, on the real clock: their pending times mean nothing. Create the group inside the bubble.)"
		want := []string{
			// Both list the oldest first.
			"Fatalf: waitgrouptest: not done within 2s: waitgroup: gave up waiting (context deadline exceeded) with 2 tasks pending" +
				line["outside"] + line["inside"] + note,
			"Errorf: waitgrouptest: 2 tasks still pending:" + line["outside"] + line["inside"] + note,
		}
		got := ft.messages()
		for i := range got {
			got[i] = pendingRE.ReplaceAllString(got[i], "pending -X")
		}
		if strings.Join(got, "\n---\n") != strings.Join(want, "\n---\n") {
			t.Errorf("got:\n%s\nwant:\n%s", strings.Join(got, "\n---\n"), strings.Join(want, "\n---\n"))
		}

		// The tasks of a group made inside the bubble carry no note.
		h := waitgroup.New()
		h.Add(waitgroup.Name("inside"))
		ft = &fakeTB{}
		ft.run(func(tb waitgrouptest.TB) { waitgrouptest.CheckIdle(tb, h) })
		if got := ft.messages(); len(got) != 1 || strings.Contains(got[0], "synctest") {
			t.Errorf("a task added in the bubble: %q", got)
		}
	})
}
