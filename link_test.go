package waitgroup_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"testing/synctest"

	"github.com/gowaitgroup/waitgroup"
)

// countingLink is a comparable Link that records its Waits.
type countingLink struct {
	name string
	log  *[]string
	mu   *sync.Mutex
}

func (l countingLink) Wait(context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	*l.log = append(*l.log, l.name)
	return nil
}

// funcLink is a Link of an uncomparable type.
type funcLink func(context.Context) error

func (f funcLink) Wait(ctx context.Context) error { return f(ctx) }

func mustPanic(t *testing.T, want string, f func()) {
	t.Helper()
	defer func() {
		t.Helper()
		r := recover()
		msg, _ := r.(string)
		if !strings.HasPrefix(msg, "waitgroup: ") || !strings.Contains(msg, want) {
			t.Fatalf("panic %v, want a waitgroup: panic containing %q", r, want)
		}
	}()
	f()
}

func TestLinkPanics(t *testing.T) {
	tests := []struct {
		name string
		link func()
		want string
	}{
		{"nil", func() { waitgroup.New().Link(nil) }, "Link(nil)"},
		{"typed nil", func() { var g *waitgroup.Group; waitgroup.New().Link(g) }, "nil *Group"},
		{"self", func() { g := waitgroup.New(); g.Link(g) }, "itself"},
		{"two", func() { a, b := waitgroup.New(), waitgroup.New(); a.Link(b); b.Link(a) }, "cycle"},
		{"three", func() {
			a, b, c := waitgroup.New(waitgroup.GroupName("a")), waitgroup.New(), waitgroup.New()
			a.Link(b)
			b.Link(c)
			c.Link(a)
		}, `cycle: group "a" already waits for group`},
		{"sub back to parent", func() { g := waitgroup.New(); g.Sub().Sub().Link(g) }, "cycle"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { mustPanic(t, tt.want, tt.link) })
	}
}

func TestLinkPanicLeavesGroupUsable(t *testing.T) {
	a, b := waitgroup.New(), waitgroup.New()
	a.Link(b)
	mustPanic(t, "cycle", func() { b.Link(a) })
	if err := a.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := b.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestConcurrentCrossLinksOnePanics(t *testing.T) {
	for range 200 {
		a, b := waitgroup.New(), waitgroup.New()
		var wg sync.WaitGroup
		panics := make(chan any, 2)
		link := func(x, y *waitgroup.Group) {
			defer wg.Done()
			defer func() {
				if r := recover(); r != nil {
					panics <- r
				}
			}()
			x.Link(y)
		}
		wg.Add(2)
		go link(a, b)
		go link(b, a)
		wg.Wait()
		if n := len(panics); n != 1 {
			t.Fatalf("%d of two crossing Links panicked, want exactly 1", n)
		}
	}
}

func TestLinkOrderAndDuplicates(t *testing.T) {
	var log []string
	var mu sync.Mutex
	g := waitgroup.New()
	first, second := countingLink{"first", &log, &mu}, countingLink{"second", &log, &mu}
	sub := waitgroup.New()
	g.Link(first)
	g.Link(sub)
	g.Link(second)
	g.Link(first)                            // equal value: no-op
	g.Link(countingLink{"first", &log, &mu}) // equal, though a new value
	g.Link(sub)                              // same *Group: no-op
	calls := 0
	fl := funcLink(func(context.Context) error { calls++; return nil })
	g.Link(fl)
	g.Link(fl) // uncomparable: cannot be recognised, but must not panic
	if err := g.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(log, ","); got != "first,second" {
		t.Fatalf("links waited %q, want first,second once each", got)
	}
	if calls != 2 {
		t.Fatalf("func link waited %d times, want 2 (linked twice)", calls)
	}
}

// pendingLink is a foreign Link that reports its own pending tasks.
type pendingLink struct{ g *waitgroup.Group }

func (l pendingLink) Wait(ctx context.Context) error { return l.g.Wait(ctx) }
func (l pendingLink) Pending() []waitgroup.TaskInfo  { return l.g.Pending() }

func TestForeignLinks(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		inner := waitgroup.New(waitgroup.GroupName("inner"))
		id := inner.Add(waitgroup.Name("wrapped"))
		g := waitgroup.New()
		g.Link(pendingLink{inner})
		p := g.Pending()
		if len(p) != 1 || p[0].Name != "wrapped" {
			t.Fatalf("Pending = %v, want the foreign link's task", p)
		}
		err := g.Wait(expired())
		if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), `"wrapped" (Add at waitgroup_test/link_test.go:`) ||
			!strings.Contains(err.Error(), `) in group "inner"`) {
			t.Fatalf("Wait = %v, want a give-up naming the wrapped task", err)
		}
		inner.Done(id)

		// A foreign link's real error is reported; its give-up is Wait's.
		errLink := errors.New("link failed")
		g2 := waitgroup.New()
		g2.Link(funcLink(func(context.Context) error { return errLink }))
		if err := g2.Wait(context.Background()); err != errLink {
			t.Fatalf("Wait = %v, want %v", err, errLink)
		}
		g3 := waitgroup.New()
		g3.Link(funcLink(func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }))
		var we *waitgroup.WaitError
		if err := g3.Wait(expired()); !errors.As(err, &we) || !errors.Is(err, context.Canceled) {
			t.Fatalf("Wait = %v, want a *WaitError", err)
		}
	})
}

// A cycle that goes through a Link that is not a *Group cannot be refused by
// Link; Wait must end it with an error, not recurse until the stack overflows.
func TestWaitCycleThroughForeignLink(t *testing.T) {
	g, h := waitgroup.New(waitgroup.GroupName("g")), waitgroup.New()
	g.Link(pendingLink{h})
	h.Link(g)
	err := g.Wait(context.Background())
	if !errors.Is(err, waitgroup.ErrCycle) || !strings.Contains(err.Error(), `group "g" waits for itself`) {
		t.Fatalf("Wait = %v, want ErrCycle", err)
	}
}
