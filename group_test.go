package waitgroup_test

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gowaitgroup/waitgroup"
	"go.uber.org/goleak"
)

// expired returns a context that is already done.
func expired() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}

// waitAsync starts g.Wait(ctx) in a goroutine and returns the channel that
// receives its result.
func waitAsync(g *waitgroup.Group, ctx context.Context) <-chan error {
	ch := make(chan error, 1)
	go func() { ch <- g.Wait(ctx) }()
	return ch
}

// returned reports whether ch has a value ready, after every goroutine of
// the bubble has settled.
func returned(ch <-chan error) (error, bool) {
	synctest.Wait()
	select {
	case err := <-ch:
		return err, true
	default:
		return nil, false
	}
}

func TestWaitReturnsNilOnlyWhenAllDone(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := waitgroup.New()
		sub := g.Sub()
		release := make(chan struct{})
		g.Go(func(ctx context.Context) error { <-release; return nil })
		id := g.Add()
		subID := sub.Add()

		w := waitAsync(g, context.Background())
		if _, ok := returned(w); ok {
			t.Fatal("Wait returned with a task, an ID and a linked group pending")
		}
		close(release)
		if _, ok := returned(w); ok {
			t.Fatal("Wait returned with an ID and a linked group pending")
		}
		if err := g.Done(id); err != nil {
			t.Fatal(err)
		}
		if _, ok := returned(w); ok {
			t.Fatal("Wait returned with a linked group pending")
		}
		if err := sub.Done(subID); err != nil {
			t.Fatal(err)
		}
		err, ok := returned(w)
		if !ok || err != nil {
			t.Fatalf("Wait = %v, %v; want nil, returned", err, ok)
		}
	})
}

func TestWaitPrefersResultOverDoneContext(t *testing.T) {
	errTask := errors.New("task failed")
	tests := []struct {
		name string
		task func(context.Context) error
		want error
	}{
		{"success", func(context.Context) error { return nil }, nil},
		{"failure", func(context.Context) error { return errTask }, errTask},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				g := waitgroup.New()
				g.Go(tt.task)
				g.Link(g.Sub()) // an idle link must not turn into a timeout either
				synctest.Wait()
				for range 100 { // a select between ready cases is random
					if err := g.Wait(expired()); err != tt.want {
						t.Fatalf("Wait(expired ctx) = %v, want %v", err, tt.want)
					}
				}
			})
		})
	}
}

func TestWaitTimeoutNamesPendingTasks(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := waitgroup.New(waitgroup.GroupName("api"))
		release := make(chan struct{})
		defer close(release)
		block := func(ctx context.Context) error { <-release; return nil }

		g.Go(block, waitgroup.Name("flusher"))
		time.Sleep(2 * time.Second) // fake time: gives the tasks distinct ages
		g.Go(blockingWorker(release))
		unnamed := g.Add()
		conns := g.Sub(waitgroup.GroupName("conns"))
		conns.Add(waitgroup.Name("conn 10.0.0.1"))
		time.Sleep(3 * time.Second)

		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		err := g.Wait(ctx)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Wait = %v, want context.DeadlineExceeded", err)
		}
		var we *waitgroup.WaitError
		if !errors.As(err, &we) {
			t.Fatalf("Wait error %T is not a *WaitError", err)
		}
		if we.Total != 4 || len(we.Pending) != 4 {
			t.Fatalf("WaitError lists %d of %d tasks, want 4 of 4", len(we.Pending), we.Total)
		}
		msg := err.Error()
		for _, want := range []string{
			`with 4 tasks pending`,
			`"flusher" (waitgroup_test.TestWaitTimeoutNamesPendingTasks.func1.1 (group_test.go:`,
			`in group "api", pending 6s`,
			`blockingWorker`,
			`in group "api", pending 4s`,
			`"conn 10.0.0.1" (Add at waitgroup_test/group_test.go:`,
			`) in group "conns", pending 4s`,
		} {
			if !strings.Contains(msg, want) {
				t.Errorf("message lacks %q:\n%s", want, msg)
			}
		}
		// The unnamed Add is described by its call site: this file, the line
		// of the g.Add() above.
		if !regexp.MustCompile(`\n\tAdd at waitgroup_test/group_test.go:\d+ in group "api", pending 4s`).MatchString(msg) {
			t.Errorf("message lacks the unnamed Add's call site:\n%s", msg)
		}
		if err := g.Done(unnamed); err != nil {
			t.Fatal(err)
		}
	})
}

func blockingWorker(release chan struct{}) func(context.Context) error {
	return func(ctx context.Context) error { <-release; return nil }
}

func TestTimedOutWaitLeavesNoGoroutine(t *testing.T) {
	g := waitgroup.New()
	id := g.Add()
	g.Link(g.Sub())
	before := goleak.IgnoreCurrent()
	for range 1000 {
		ctx, cancel := context.WithTimeout(context.Background(), time.Microsecond)
		err := g.Wait(ctx)
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Wait = %v, want DeadlineExceeded", err)
		}
	}
	// VerifyNone retries a while, for the timer goroutines of the contexts.
	if err := goleak.Find(before); err != nil {
		t.Fatalf("goroutines left after 1000 timed-out Waits: %v", err)
	}
	// Work added after a timed-out Wait is fine, and the next Wait sees it.
	id2 := g.Add()
	for _, id := range []waitgroup.ID{id, id2} {
		if err := g.Done(id); err != nil {
			t.Fatal(err)
		}
	}
	if err := g.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestWaitCoversWorkAddedDuringWait(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := waitgroup.New()
		sub := g.Sub()
		first := g.Add()
		w := waitAsync(g, context.Background())
		synctest.Wait()
		second := g.Add()
		if err := g.Done(first); err != nil {
			t.Fatal(err)
		}
		if _, ok := returned(w); ok {
			t.Fatal("Wait returned while work added during it was pending")
		}
		// Work added to a linked group while Wait waits on g's own tasks.
		third := sub.Add()
		if err := g.Done(second); err != nil {
			t.Fatal(err)
		}
		if _, ok := returned(w); ok {
			t.Fatal("Wait returned while the linked group had work")
		}
		// Work added to g while Wait is already waiting on the link.
		fourth := g.Add()
		if err := sub.Done(third); err != nil {
			t.Fatal(err)
		}
		if _, ok := returned(w); ok {
			t.Fatal("Wait returned while work added during the link wait was pending")
		}
		if err := g.Done(fourth); err != nil {
			t.Fatal(err)
		}
		if err, ok := returned(w); !ok || err != nil {
			t.Fatalf("Wait = %v, %v; want nil, returned", err, ok)
		}
	})
}

func TestConcurrentWaitsAgree(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := waitgroup.New()
		errA, errB := errors.New("a"), errors.New("b")
		stepA, stepB := make(chan struct{}), make(chan struct{})
		g.Go(func(context.Context) error { <-stepA; return errA })
		g.Go(func(context.Context) error { <-stepB; return errB })
		var waits []<-chan error
		for range 8 {
			waits = append(waits, waitAsync(g, context.Background()))
		}
		close(stepA)
		synctest.Wait()
		close(stepB)
		for i, w := range waits {
			err := <-w
			if !errors.Is(err, errA) || !errors.Is(err, errB) {
				t.Errorf("Wait %d = %v, want both errors", i, err)
			}
			if got, want := err.Error(), "a\nb"; got != want {
				t.Errorf("Wait %d message %q, want %q", i, got, want)
			}
		}
	})
}

// TestStress hammers every method from many goroutines; it checks nothing
// but the race detector, the absence of panics and the final balance.
func TestStress(t *testing.T) {
	g := waitgroup.New()
	sub := g.Sub()
	var wg sync.WaitGroup
	var ran atomic.Int64
	for w := range 8 {
		wg.Go(func() {
			for i := range 300 {
				switch (w + i) % 5 {
				case 0:
					id := g.Add()
					g.Go(func(context.Context) error { ran.Add(1); return g.Done(id) })
				case 1:
					id := sub.Add(waitgroup.Name("s"))
					if err := sub.Done(id); err != nil {
						t.Error(err)
					}
				case 2:
					ctx, cancel := context.WithTimeout(context.Background(), time.Microsecond)
					_ = g.Wait(ctx)
					cancel()
				case 3:
					_ = g.Pending()
				case 4:
					sub.Go(func(context.Context) error { ran.Add(1); return nil })
				}
			}
		})
	}
	wg.Wait()
	if err := g.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	if p := g.Pending(); len(p) != 0 {
		t.Fatalf("pending after Wait: %v", p)
	}
	if got, want := ran.Load(), int64(8*300*2/5); got != want {
		t.Fatalf("%d tasks ran, want %d", got, want)
	}
}

func TestDoneRejectsForeignIDs(t *testing.T) {
	g, other := waitgroup.New(), waitgroup.New()
	release := make(chan struct{})
	defer func() { close(release); g.Wait(context.Background()) }()
	g.Go(func(context.Context) error { <-release; return nil })
	goID := g.Pending()[0].ID
	done := g.Add()
	if err := g.Done(done); err != nil {
		t.Fatal(err)
	}
	live := g.Add() // must survive every bad Done below
	defer g.Done(live)

	tests := []struct {
		name string
		id   waitgroup.ID
		want string
	}{
		{"zero", waitgroup.ID{}, "the zero ID"},
		{"repeated", done, "already done"},
		{"other group", other.Add(), "another group"},
		{"Go task", goID, "started by Go"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := g.Done(tt.id)
			if !errors.Is(err, waitgroup.ErrUnknownID) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Done = %v, want ErrUnknownID saying %q", err, tt.want)
			}
			if n := len(g.Pending()); n != 2 {
				t.Fatalf("%d pending after a refused Done, want 2", n)
			}
			if err := g.Wait(expired()); !errors.Is(err, context.Canceled) {
				t.Fatalf("Wait = %v after a refused Done, want it to still be waiting", err)
			}
		})
	}
}

func TestIDs(t *testing.T) {
	g := waitgroup.New()
	seen := map[waitgroup.ID]bool{}
	for range 3 * 256 { // past a chunk, with reuse of freed slots
		a, b := g.Add(), g.Add()
		if a.IsZero() || seen[a] || seen[b] || a == b {
			t.Fatalf("ID reused or zero: %v %v", a, b)
		}
		seen[a], seen[b] = true, true
		if err := g.Done(a); err != nil {
			t.Fatal(err)
		}
		defer g.Done(b)
	}
	if got := (waitgroup.ID{}).String(); !strings.Contains(got, "zero") {
		t.Errorf("zero ID String = %q", got)
	}
}

func TestPending(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := waitgroup.New(waitgroup.GroupName("outer"))
		start := time.Now()
		a := g.Add(waitgroup.Name("a"))
		time.Sleep(time.Second)
		b := g.Add()
		sub := g.Sub(waitgroup.GroupName("inner"))
		c := sub.Add(waitgroup.Name("c"))
		p := g.Pending()
		if len(p) != 3 {
			t.Fatalf("Pending = %v, want 3 tasks", p)
		}
		want := []struct {
			id    waitgroup.ID
			name  string
			group string
			since time.Time
		}{{a, "a", "outer", start}, {b, "", "outer", start.Add(time.Second)}, {c, "c", "inner", start.Add(time.Second)}}
		for i, w := range want {
			if p[i].ID != w.id || p[i].Name != w.name || p[i].Group != w.group || !p[i].Since.Equal(w.since) {
				t.Errorf("Pending[%d] = %+v, want %+v", i, p[i], w)
			}
			// Named or not, an Add keeps its call site.
			if !strings.HasPrefix(p[i].Where, "Add at waitgroup_test/group_test.go:") {
				t.Errorf("Pending[%d].Where = %q", i, p[i].Where)
			}
		}
		for _, id := range []waitgroup.ID{a, b} {
			g.Done(id)
		}
		sub.Done(c)
		if p := g.Pending(); len(p) != 0 {
			t.Fatalf("Pending after Done = %v", p)
		}
	})
}

func TestZeroGroup(t *testing.T) {
	var g waitgroup.Group
	ctx := g.Context()
	if ctx.Err() != nil {
		t.Fatal("zero Group's context is done")
	}
	errStop := errors.New("stop")
	g.Cancel(errStop)
	if context.Cause(g.Context()) != errStop || ctx.Err() != context.Canceled {
		t.Fatalf("after Cancel: cause %v, err %v", context.Cause(ctx), ctx.Err())
	}
	if err := g.Wait(expired()); err != nil {
		t.Fatalf("Wait on an idle zero Group = %v", err)
	}
}

func TestCancelNilCause(t *testing.T) {
	g := waitgroup.New()
	g.Cancel(nil)
	if got := context.Cause(g.Context()); got != context.Canceled {
		t.Fatalf("cause = %v, want context.Canceled", got)
	}
}

func TestSetLimit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := waitgroup.New()
		g.SetLimit(2)
		var running, peak atomic.Int32
		release := make(chan struct{})
		task := func(context.Context) error {
			n := running.Add(1)
			for {
				p := peak.Load()
				if n <= p || peak.CompareAndSwap(p, n) {
					break
				}
			}
			<-release
			running.Add(-1)
			return nil
		}
		g.Go(task)
		if !g.TryGo(task) {
			t.Fatal("TryGo refused below the limit")
		}
		started := false
		if g.TryGo(func(context.Context) error { started = true; return nil }) {
			t.Fatal("TryGo accepted at the limit")
		}
		id := g.Add() // IDs do not count against the limit
		blocked := make(chan struct{})
		go func() { g.Go(task); close(blocked) }()
		synctest.Wait()
		select {
		case <-blocked:
			t.Fatal("Go did not block at the limit")
		default:
		}
		close(release)
		<-blocked
		g.Done(id)
		if err := g.Wait(context.Background()); err != nil {
			t.Fatal(err)
		}
		if peak.Load() != 2 || started {
			t.Fatalf("peak %d running (want 2), refused task started: %v", peak.Load(), started)
		}
		g.SetLimit(-1)
		for range 5 {
			if !g.TryGo(task) {
				t.Fatal("TryGo refused without a limit")
			}
		}
		if err := g.Wait(context.Background()); err != nil {
			t.Fatal(err)
		}
	})
}

func TestSetLimitWhileRunningPanics(t *testing.T) {
	g := waitgroup.New()
	g.SetLimit(1)
	release := make(chan struct{})
	g.Go(func(context.Context) error { <-release; return nil })
	defer func() {
		close(release)
		g.Wait(context.Background())
		if r := recover(); r == nil || !strings.HasPrefix(r.(error).Error(), "waitgroup: ") {
			t.Fatalf("recover() = %v, want a waitgroup: panic", r)
		}
	}()
	g.SetLimit(2)
}

func TestLimitSlotFreedAfterCancel(t *testing.T) {
	for range 1000 {
		g := waitgroup.New(waitgroup.CancelOnError())
		g.SetLimit(1)
		g.Go(fail(errors.New("boom")))
		// This Go waits for the failed task's slot; by the time it gets it,
		// the context must already be cancelled.
		var live bool
		g.Go(func(ctx context.Context) error { live = ctx.Err() == nil; return nil })
		g.Wait(context.Background())
		if live {
			t.Fatal("a task took a freed slot before CancelOnError cancelled the context")
		}
	}
}

type server struct{ release chan struct{} }

func (s *server) serve(ctx context.Context) error { <-s.release; return nil }

func TestMethodValueDescribed(t *testing.T) {
	s := &server{make(chan struct{})}
	g := waitgroup.New()
	g.Go(s.serve)
	defer func() { close(s.release); g.Wait(context.Background()) }()
	if got, want := g.Pending()[0].Where, "waitgroup_test.(*server).serve"; got != want {
		t.Fatalf("Where = %q, want %q", got, want)
	}
}

// A Wait that gives up inside a synctest bubble must leave nothing of the
// bubble in the group: a later Done outside it would crash the process.
func TestGiveUpLeavesNoState(t *testing.T) {
	g := waitgroup.New()
	id := g.Add()
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		if err := g.Wait(ctx); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Wait = %v", err)
		}
	})
	if err := g.Done(id); err != nil {
		t.Fatal(err)
	}
}

func TestUnnamedAddRecordsItsLine(t *testing.T) {
	g := waitgroup.New()
	id := g.Add()
	_, _, line, _ := runtime.Caller(0)
	defer g.Done(id)
	want := fmt.Sprintf("Add at waitgroup_test/group_test.go:%d", line-1)
	if got := g.Pending()[0].Where; got != want {
		t.Fatalf("Where = %q, want %q", got, want)
	}
}
