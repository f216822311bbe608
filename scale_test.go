// Tests of the core at scale and of the paths that used to crash the
// process (issue 8). The timings these shapes must keep are benchmarks
// (scale_bench_test.go); here each test checks what must hold whatever the
// machine: results, memory, and that nothing overflows or escapes.
package waitgroup_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gowaitgroup/waitgroup"
)

// chain returns a root and the last of n groups, each linked to the one
// before it with Link (sub false) or made with Sub.
func chain(n int, sub bool) (root, last *waitgroup.Group) {
	root = waitgroup.New()
	last = root
	for range n {
		if sub {
			last = last.Sub()
		} else {
			next := waitgroup.New()
			last.Link(next)
			last = next
		}
	}
	return root, last
}

// A deep chain is waited for, and listed, without recursion: with the
// stack limited to 1 MB, a walk that recursed once per level would crash.
func TestDeepChain(t *testing.T) {
	n := 300_000
	if testing.Short() || raceEnabled {
		n = 100_000
	}
	defer debug.SetMaxStack(debug.SetMaxStack(1 << 20))
	for _, sub := range []bool{false, true} {
		t.Run(fmt.Sprint("sub=", sub), func(t *testing.T) {
			root, last := chain(n, sub)
			id := last.Add(waitgroup.Name("deep"))
			err := root.Wait(expired())
			var we *waitgroup.WaitError
			if !errors.As(err, &we) || we.Total != 1 || we.Pending[0].Name != "deep" {
				t.Fatalf("Wait = %v, want a give-up naming the deepest task", err)
			}
			if err := last.Done(id); err != nil {
				t.Fatal(err)
			}
			if err := root.Wait(context.Background()); err != nil {
				t.Fatalf("idle Wait = %v", err)
			}
			errDeep := errors.New("deep failure")
			last.Go(func(context.Context) error { return errDeep })
			if err := root.Wait(context.Background()); err != errDeep {
				t.Fatalf("Wait = %v, want the deepest task's error", err)
			}
		})
	}
}

// The give-up describes the tasks it lists and no others: with many more
// pending, OldestPending(n) allocates no more than with a few more.
func TestOldestPendingDescribesOnlyWhatItLists(t *testing.T) {
	allocs := func(pending int) float64 {
		g := waitgroup.New()
		ids := make([]waitgroup.ID, pending)
		for i := range ids {
			ids[i] = g.Add()
		}
		defer func() {
			for _, id := range ids {
				g.Done(id)
			}
		}()
		return testing.AllocsPerRun(5, func() {
			tasks, total := g.OldestPending(10)
			if len(tasks) != 10 || total != pending {
				t.Fatalf("OldestPending = %d of %d, want 10 of %d", len(tasks), total, pending)
			}
		})
	}
	// Describing every pending task would take at least one allocation
	// each: 200000. The race detector adds a few of its own either way.
	few, many := allocs(20), allocs(200_000)
	if many > 2*few {
		t.Fatalf("OldestPending(10) made %v allocations with 200000 pending, %v with 20", many, few)
	}
}

// The give-up lists the oldest tasks, oldest first, across groups, and
// counts all of them. Tasks that start within the same fraction of a
// millisecond may share a start time (clock.go); the fake clock of a bubble
// is exact.
func TestGiveUpListsTheOldest(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := waitgroup.New()
		s := g.Sub(waitgroup.GroupName("s"))
		first := s.Add(waitgroup.Name("first"))
		time.Sleep(time.Millisecond) // fake time: "first" is older than the rest
		var ids []waitgroup.ID
		for i := range 3 * waitgroup.MaxListed {
			ids = append(ids, g.Add(waitgroup.Name(fmt.Sprint("t", i))))
		}
		release := make(chan struct{})
		g.Go(func(context.Context) error { <-release; return nil }, waitgroup.Name("last"))
		err := g.Wait(expired())
		close(release)
		var we *waitgroup.WaitError
		if !errors.As(err, &we) {
			t.Fatalf("Wait = %v", err)
		}
		if we.Total != 3*waitgroup.MaxListed+2 || len(we.Pending) != waitgroup.MaxListed {
			t.Fatalf("WaitError lists %d of %d", len(we.Pending), we.Total)
		}
		if we.Pending[0].Name != "first" || we.Pending[1].Name != "t0" || we.Pending[waitgroup.MaxListed-1].Name != fmt.Sprint("t", waitgroup.MaxListed-2) {
			t.Fatalf("WaitError lists %v ... %v, want first, t0 ... t%d", we.Pending[0], we.Pending[waitgroup.MaxListed-1], waitgroup.MaxListed-2)
		}
		for _, id := range ids {
			g.Done(id)
		}
		s.Done(first)
		if err := g.Wait(context.Background()); err != nil {
			t.Fatal(err)
		}
	})
}

// heapAfter returns the live heap after f, collected twice.
func heapAfter(f func()) uint64 {
	f()
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// A finished Sub whose errors were reported, and that nobody holds, costs
// its parent nothing: a Sub per connection does not leak.
func TestFinishedSubsAreFreed(t *testing.T) {
	const n = 20_000
	g := waitgroup.New()
	keep := g.Add(waitgroup.Name("listener")) // the parent stays busy
	work := func(fail bool) {
		for i := range n {
			s := g.Sub(waitgroup.GroupName("conn"))
			s.Go(func(ctx context.Context) error {
				<-ctx.Done() // a task that asks for its Done channel
				if fail && i%2 == 0 {
					return errors.New("conn failed")
				}
				return nil
			})
			s.Cancel(nil)
			if err := s.Wait(context.Background()); (err != nil) != (fail && i%2 == 0) {
				t.Fatalf("Sub Wait = %v", err)
			}
		}
		g.Wait(expired()) // reports the Subs' errors through the parent
	}
	for _, fail := range []bool{false, true} {
		base := heapAfter(func() { work(fail) })
		grown := heapAfter(func() { work(fail) })
		if per := (int64(grown) - int64(base)) / n; per > 64 {
			t.Errorf("failing=%v: each finished Sub kept %d bytes, want at most 64", fail, per)
		}
	}
	// The parent still reports the dropped Subs' errors: the first
	// MaxErrors, and how many more.
	g.Done(keep)
	err := g.Wait(context.Background())
	if !errors.Is(err, waitgroup.ErrTooManyErrors) || !strings.Contains(err.Error(), "conn failed") ||
		!strings.Contains(err.Error(), fmt.Sprintf("%d more left out by dropped Subs", 2*n/2-waitgroup.MaxErrors)) {
		t.Fatalf("Wait = %v", err)
	}
}

// A burst of IDs is freed as it ends, even while the ID added just before
// it, and the one added just after it, stay pending.
func TestBurstOfIDsIsFreed(t *testing.T) {
	const n = 200_000
	g := waitgroup.New()
	before := g.Add(waitgroup.Name("before"))
	var after waitgroup.ID
	base := heapAfter(func() {})
	ids := make([]waitgroup.ID, n)
	for i := range ids {
		ids[i] = g.Add()
	}
	after = g.Add(waitgroup.Name("after"))
	for i, id := range ids {
		if err := g.Done(id); err != nil {
			t.Fatal(err)
		}
		ids[i] = waitgroup.ID{}
	}
	grown := heapAfter(func() {})
	if d := int64(grown) - int64(base); d > 64<<10 {
		t.Errorf("a finished burst of %d IDs kept %d bytes", n, d)
	}
	g.Done(before)
	g.Done(after)
}

// Server embeds a *Group, as a service type does.
type Server struct{ *waitgroup.Group }

// A cycle through a type that embeds *Group is refused at Link, like one of
// plain groups; it used to overflow the stack at the next Pending.
func TestCycleThroughEmbeddedGroupPanicsAtLink(t *testing.T) {
	a, b := waitgroup.New(waitgroup.GroupName("a")), waitgroup.New(waitgroup.GroupName("b"))
	a.Link(&Server{b})
	mustPanic(t, `waitgroup: Link would make a cycle: group "a" already waits for group "b"`, func() { b.Link(a) })
	mustPanic(t, "waitgroup: Link with a nil *Group", func() { a.Link((*Server)(nil)) })
	mustPanic(t, "embeds a nil *Group", func() { a.Link(&Server{}) })
	id := b.Add(waitgroup.Name("in b"))
	if p := a.Pending(); len(p) != 1 || p[0].Name != "in b" {
		t.Fatalf("Pending = %v", p)
	}
	b.Done(id)
}

// wrapper is a foreign Link that hides a group and reports its Pending.
type wrapper struct{ g *waitgroup.Group }

func (w wrapper) Wait(ctx context.Context) error { return w.g.Wait(ctx) }
func (w wrapper) Pending() []waitgroup.TaskInfo  { return w.g.Pending() }

// A cycle through a foreign Link that calls Pending ends: each group is
// listed once.
func TestPendingThroughForeignCycleEnds(t *testing.T) {
	a, b := waitgroup.New(), waitgroup.New()
	a.Link(wrapper{b})
	b.Link(a)
	ida, idb := a.Add(waitgroup.Name("a")), b.Add(waitgroup.Name("b"))
	for _, g := range []*waitgroup.Group{a, b} {
		if p := g.Pending(); len(p) != 2 {
			t.Fatalf("Pending = %v, want a and b once each", p)
		}
		if _, total := g.OldestPending(10); total != 2 {
			t.Fatalf("OldestPending total = %d, want 2", total)
		}
	}
	a.Done(ida)
	b.Done(idb)
	if err := a.Wait(context.Background()); !errors.Is(err, waitgroup.ErrCycle) {
		t.Fatalf("Wait = %v, want ErrCycle", err)
	}
}

// nastyError panics in every method a library might call.
type nastyError struct{}

func (nastyError) Error() string          { panic("Error") }
func (nastyError) Unwrap() error          { panic("Unwrap") }
func (nastyError) Is(error) bool          { panic("Is") }
func (nastyError) As(any) bool            { panic("As") }
func (nastyError) Format(fmt.State, rune) { panic("Format") }

// A task error whose methods panic, returned after the group was
// cancelled, is a real error: it used to crash the process with the group
// locked.
func TestPanickingErrorMethodsAreContained(t *testing.T) {
	g := waitgroup.New(waitgroup.CancelOnError())
	g.Cancel(nil)
	g.Go(func(context.Context) error { return nastyError{} })
	err := g.Wait(context.Background())
	if _, ok := err.(nastyError); !ok {
		t.Fatalf("Wait = %T, want the task's error", err)
	}
	// The group is not left locked, and works on.
	if err := g.Done(g.Add()); err != nil {
		t.Fatal(err)
	}
	if err := g.Wait(context.Background()); err != nil {
		t.Fatalf("Wait of a new round = %v", err)
	}
}

// An uncomparable error used as the cause is reported once: its echo is
// recognised with errors.Is, not ==.
func TestUncomparableCauseReportedOnce(t *testing.T) {
	boom := uncomparable{"boom", []string{"x"}}
	g := waitgroup.New(waitgroup.CancelOnError())
	g.Go(func(context.Context) error { return boom })
	g.Go(func(ctx context.Context) error { <-ctx.Done(); return context.Cause(ctx) })
	g.Go(func(ctx context.Context) error {
		<-ctx.Done()
		return fmt.Errorf("sibling stopped: %w", context.Cause(ctx))
	})
	err := g.Wait(context.Background())
	if got := err.Error(); got != "boom" {
		t.Fatalf("Wait = %q, want boom once", got)
	}
}

// uncomparable cannot be compared with ==: its slice sees to that.
type uncomparable struct {
	msg  string
	tags []string
}

func (u uncomparable) Error() string { return u.msg }

// panic(nil) becomes a *PanicError whatever GODEBUG says: with panicnil=1,
// recover returns nil, which used to be taken for a Goexit.
func TestPanicNilUnderAnyGODEBUG(t *testing.T) {
	if os.Getenv("WAITGROUP_PANICNIL_CHILD") == "1" {
		g := waitgroup.New()
		g.Go(func(context.Context) error { panic(nil) })
		var pe *waitgroup.PanicError
		if err := g.Wait(context.Background()); !errors.As(err, &pe) {
			fmt.Println("NOT A PANIC ERROR:", err)
			os.Exit(3)
		}
		g.Go(func(context.Context) error { runtime.Goexit(); return nil })
		if err := g.Wait(context.Background()); err != nil {
			fmt.Println("GOEXIT REPORTED:", err)
			os.Exit(4)
		}
		fmt.Println("CHILD OK")
		os.Exit(0)
	}
	for _, godebug := range []string{"panicnil=0", "panicnil=1"} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestPanicNilUnderAnyGODEBUG$")
		cmd.Env = append(os.Environ(), "WAITGROUP_PANICNIL_CHILD=1", "GODEBUG="+godebug)
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "CHILD OK") {
			t.Errorf("GODEBUG=%s: %v\n%s", godebug, err, out)
		}
	}
}

// Many pending tasks from one place are told once, with their number.
func TestWaitErrorGroupsTasksOfOnePlace(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := waitgroup.New(waitgroup.GroupName("conns"))
		var ids []waitgroup.ID
		add := func() { ids = append(ids, g.Add(waitgroup.Name("conn"))) }
		add()
		_, _, line, _ := runtime.Caller(0)
		time.Sleep(time.Second)
		for range 411 {
			add()
		}
		listener := g.Add(waitgroup.Name("listener"))
		time.Sleep(40 * time.Second)
		err := g.Wait(expired())
		want := fmt.Sprintf(`waitgroup: gave up waiting (context canceled) with 413 tasks pending
	100 × "conn" (Add at waitgroup_test/scale_test.go:%d) in group "conns", pending 41s (the oldest)
	and 313 more`, line-2)
		if err == nil || err.Error() != want {
			t.Fatalf("Wait = %v\nwant %s", err, want)
		}
		for _, id := range append(ids, listener) {
			g.Done(id)
		}
	})
}

// IsEcho is the shared rule for callers that cancelled a group themselves;
// a user's error whose methods panic is not an echo, and does not crash it.
func TestIsEcho(t *testing.T) {
	errStop := errors.New("stop")
	for _, tt := range []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"canceled", context.Canceled, true},
		{"wrapped canceled", fmt.Errorf("read: %w", context.Canceled), true},
		{"the cause", errStop, true},
		{"real", errors.New("disk full"), false},
		{"real joined with an echo", errors.Join(errors.New("disk full"), context.Canceled), false},
		{"panic of canceled", &waitgroup.PanicError{Value: context.Canceled}, false},
		{"panicking methods", nastyError{}, false},
		{"uncomparable", uncomparable{"x", nil}, false},
	} {
		if got := waitgroup.IsEcho(tt.err, errStop); got != tt.want {
			t.Errorf("%s: IsEcho = %v, want %v", tt.name, got, tt.want)
		}
	}
}
