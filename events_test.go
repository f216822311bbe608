package waitgroup_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gowaitgroup/waitgroup"
)

// recorder is an event handler that keeps what it receives.
type recorder struct {
	mu     sync.Mutex
	events []waitgroup.Event
}

func (r *recorder) handle(e waitgroup.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
}

func (r *recorder) get() []waitgroup.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]waitgroup.Event(nil), r.events...)
}

// A failure is reported when it happens, from the task's goroutine, while
// the task is still pending: no Wait is needed, and a Wait that the task
// unblocks returns only after the handler.
func TestEventTaskFailedBeforeWait(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		errBoom := errors.New("boom")
		var g *waitgroup.Group
		var pendingInHandler []waitgroup.TaskInfo
		got := make(chan waitgroup.Event, 10)
		g = waitgroup.New(waitgroup.GroupName("workers"), waitgroup.Events(func(e waitgroup.Event) {
			pendingInHandler = g.Pending()
			got <- e
		}))
		release := make(chan struct{})
		g.Go(func(context.Context) error { <-release; return errBoom }, waitgroup.Name("job"))
		synctest.Wait()
		if len(got) != 0 {
			t.Fatal("an event before anything happened")
		}
		begin := time.Now()
		time.Sleep(time.Hour)
		close(release)
		synctest.Wait()
		var e waitgroup.Event
		select {
		case e = <-got:
		default:
			t.Fatal("no event before Wait was called")
		}
		if e.Kind != waitgroup.TaskFailed || e.Group != "workers" || e.Task.Name != "job" || e.Task.Group != "workers" ||
			e.Err != errBoom || !e.Time.Equal(begin.Add(time.Hour)) || !strings.Contains(e.Task.Where, "events_test.go") {
			t.Errorf("event %+v", e)
		}
		if len(pendingInHandler) != 1 || pendingInHandler[0].Name != "job" {
			t.Errorf("Pending in the handler = %v, want the failing task still pending", pendingInHandler)
		}
		if want := `task failed: "job" (`; !strings.HasPrefix(e.String(), want) || !strings.HasSuffix(e.String(), `in group "workers", pending 1h0m0s: boom`) {
			t.Errorf("String() = %q", e.String())
		}
		if err := g.Wait(t.Context()); err != errBoom {
			t.Errorf("Wait = %v, want the error recorded too", err)
		}
	})
}

// Only real failures make events: a panic is one, an echo of the group's
// cancellation is not.
func TestEventWhatFails(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var r recorder
		g := waitgroup.New(waitgroup.Events(r.handle))
		g.Go(func(context.Context) error { panic("bad") }, waitgroup.Name("panicker"))
		g.Go(func(context.Context) error { return nil }, waitgroup.Name("fine"))
		synctest.Wait()
		g.Go(func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }, waitgroup.Name("polite"))
		g.Go(func(ctx context.Context) error { <-ctx.Done(); return fmt.Errorf("stopping: %w", context.Cause(ctx)) }, waitgroup.Name("wraps"))
		synctest.Wait()
		g.Cancel(nil)
		g.Wait(t.Context())
		events := r.get()
		if len(events) != 1 {
			t.Fatalf("events %v, want the panic alone", events)
		}
		var pe *waitgroup.PanicError
		if events[0].Task.Name != "panicker" || !errors.As(events[0].Err, &pe) {
			t.Errorf("event %v, want the panic", events[0])
		}
	})
}

// A panic in the handler crashes nothing: it is recorded as an error of
// the group, the handler is called for later events, and the tasks end.
func TestEventHandlerPanicContained(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		calls := 0
		g := waitgroup.New(waitgroup.Events(func(e waitgroup.Event) {
			calls++
			panic("handler bug")
		}))
		errA, errB := errors.New("a"), errors.New("b")
		g.Go(func(context.Context) error { return errA })
		synctest.Wait()
		g.Go(func(context.Context) error { return errB })
		err := g.Wait(t.Context())
		if calls != 2 {
			t.Errorf("handler called %d times, want 2", calls)
		}
		var pe *waitgroup.PanicError
		if !errors.Is(err, errA) || !errors.Is(err, errB) || !errors.As(err, &pe) || pe.Task != "event handler" || pe.Value != "handler bug" {
			t.Errorf("Wait = %v, want both errors and the handler's panic", err)
		}
	})
}

// The handler may call the group's methods: Pending, Go (the failing
// task's limit slot is free by then) and Wait with a context that ends.
func TestEventHandlerReentrant(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var g *waitgroup.Group
		var mu sync.Mutex
		var log []string
		note := func(format string, args ...any) {
			mu.Lock()
			defer mu.Unlock()
			log = append(log, fmt.Sprintf(format, args...))
		}
		g = waitgroup.New(waitgroup.Limit(1), waitgroup.StillWaitingAfter(time.Second), waitgroup.Events(func(e waitgroup.Event) {
			note("%v %d pending", e.Kind, len(g.Pending()))
			if e.Kind != waitgroup.TaskFailed {
				return
			}
			ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
			defer cancel()
			err := g.Wait(ctx) // waits for the task that calls it: gives up
			note("inner Wait: %v", errors.Is(err, context.DeadlineExceeded))
			if !g.TryGo(func(context.Context) error { return nil }, waitgroup.Name("replacement")) {
				note("TryGo refused")
			}
		}))
		g.Go(func(context.Context) error { return errors.New("boom") })
		err := g.Wait(t.Context())
		if err == nil || err.Error() != "boom" {
			t.Errorf("Wait = %v", err)
		}
		mu.Lock()
		defer mu.Unlock()
		// At 1s both the inner Wait and the outer one report; the inner
		// gives up at 1.5s, and the outer returns then.
		want := "task failed 1 pending|still waiting 1 pending|still waiting 1 pending|inner Wait: true"
		if got := strings.Join(log, "|"); got != want {
			t.Errorf("handler saw %q, want %q", got, want)
		}
	})
}

// A Sub inherits its parent's handler unless its options give another, or
// Events(nil).
func TestEventSubInherits(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var parent, other recorder
		g := waitgroup.New(waitgroup.Events(parent.handle))
		inherits := g.Sub(waitgroup.GroupName("inherits"))
		overrides := g.Sub(waitgroup.GroupName("overrides"), waitgroup.Events(other.handle))
		silent := g.Sub(waitgroup.GroupName("silent"), waitgroup.Events(nil))
		for _, s := range []*waitgroup.Group{inherits, overrides, silent} {
			s.Go(func(context.Context) error { return errors.New("boom") })
		}
		g.Wait(t.Context())
		groups := func(r *recorder) string {
			var names []string
			for _, e := range r.get() {
				names = append(names, e.Group)
			}
			return strings.Join(names, ",")
		}
		if got := groups(&parent); got != "inherits" {
			t.Errorf("parent's handler got events of %q", got)
		}
		if got := groups(&other); got != "overrides" {
			t.Errorf("other handler got events of %q", got)
		}
	})
}

// A Wait blocked longer than StillWaitingAfter reports the oldest pending
// tasks, and again each period; a Wait that returns sooner reports nothing.
func TestStillWaiting(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var r recorder
		g := waitgroup.New(waitgroup.GroupName("main"), waitgroup.StillWaitingAfter(5*time.Second), waitgroup.Events(r.handle))
		quick := make(chan struct{})
		g.Go(func(context.Context) error { <-quick; return nil })
		go func() { time.Sleep(4 * time.Second); close(quick) }()
		if err := g.Wait(t.Context()); err != nil {
			t.Fatal(err)
		}
		if n := len(r.get()); n != 0 {
			t.Fatalf("%d events for a Wait of 4s", n)
		}

		stuck := make(chan struct{})
		for i := range 15 {
			g.Go(func(context.Context) error { <-stuck; return nil }, waitgroup.Name(fmt.Sprint("conn", i)))
			time.Sleep(time.Millisecond)
		}
		begin := time.Now()
		ctx, cancel := context.WithTimeout(t.Context(), 12*time.Second)
		defer cancel()
		err := g.Wait(ctx)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Wait = %v", err)
		}
		events := r.get()
		if len(events) != 2 {
			t.Fatalf("%d events, want 2 (at 5s and 10s): %v", len(events), events)
		}
		for i, e := range events {
			at := time.Duration(i+1) * 5 * time.Second
			if e.Kind != waitgroup.StillWaiting || e.Group != "main" || e.Waited != at || !e.Time.Equal(begin.Add(at)) ||
				e.Total != 15 || len(e.Pending) != 10 || e.Pending[0].Name != "conn0" || e.Pending[9].Name != "conn9" {
				t.Errorf("event %d: %+v", i, e)
			}
		}
		if s := events[0].String(); !strings.HasPrefix(s, `still waiting: waited 5s for 15 tasks; "conn0" (`) {
			t.Errorf("String() = %q", s)
		}
		close(stuck)
		g.Wait(t.Context())
	})
}
