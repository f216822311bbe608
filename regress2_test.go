package waitgroup_test

// Regression tests from a second adversarial review of Wait.

import (
	"context"
	"errors"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gowaitgroup/waitgroup"
)

// A group reached twice (a diamond) is waited once: its task's error is
// reported once, as Pending lists its tasks once.
func TestDiamondErrorReportedOnce(t *testing.T) {
	g := waitgroup.New()
	a, b := g.Sub(), g.Sub()
	d := waitgroup.New()
	a.Link(d)
	b.Link(d)
	errD := errors.New("d failed")
	d.Go(func(context.Context) error { return errD })
	err := g.Wait(context.Background())
	if n := strings.Count(err.Error(), "d failed"); n != 1 {
		t.Fatalf("Wait reported d's error %d times: %q", n, err)
	}
}

// A ladder of 32 diamonds has 2^32 paths; Wait, like Pending, must visit each
// group once, or this test never ends.
func TestDiamondLadderIsLinear(t *testing.T) {
	top := waitgroup.New()
	level := []*waitgroup.Group{top}
	for range 32 {
		a, b := waitgroup.New(), waitgroup.New()
		for _, g := range level {
			g.Link(a)
			g.Link(b)
		}
		level = []*waitgroup.Group{a, b}
	}
	id := level[0].Add()
	if err := top.Wait(expired()); !errors.Is(err, context.Canceled) {
		t.Fatalf("Wait = %v, want a give-up", err)
	}
	level[0].Done(id)
	if err := top.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// service is a Link but not a *Group: its Wait waits for its own group, and
// the first time runs after, standing for other activity meanwhile.
type service struct {
	g     *waitgroup.Group
	after func()
}

func (s *service) Wait(ctx context.Context) error {
	err := s.g.Wait(ctx)
	if f := s.after; f != nil {
		s.after = nil
		f()
	}
	return err
}

// The error of a task behind a foreign Link must survive a second pass of
// the parent's Wait: the foreign Link's first answer is the one reported.
func TestForeignLinkErrorKeptAcrossPasses(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := waitgroup.New()
		conns := g.Sub()
		inner := waitgroup.New()
		errInner := errors.New("inner task failed")
		inner.Go(func(context.Context) error { return errInner })
		g.Link(&service{g: inner, after: func() {
			conns.Go(func(context.Context) error { time.Sleep(time.Millisecond); return nil })
			inner.Done(inner.Add())
		}})
		if err := g.Wait(context.Background()); !errors.Is(err, errInner) {
			t.Fatalf("Wait = %v, want %v", err, errInner)
		}
	})
}

type slowLink struct{}

// Wait of a dependency that is done but takes 20ms to say so.
func (slowLink) Wait(ctx context.Context) error {
	select {
	case <-time.After(20 * time.Millisecond):
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Short requests every 10ms while a slow foreign Link is waited: between
// them everything is done, and Wait must find such a moment.
func TestWaitEndsUnderLightLoadWithSlowLink(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := waitgroup.New()
		conns := g.Sub()
		g.Link(slowLink{})
		stop, stopped := make(chan struct{}), make(chan struct{})
		go func() {
			defer close(stopped)
			tick := time.NewTicker(10 * time.Millisecond)
			defer tick.Stop()
			for {
				select {
				case <-stop:
					return
				case <-tick.C:
					conns.Go(func(context.Context) error { time.Sleep(time.Millisecond); return nil })
				}
			}
		}()
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		err := g.Wait(ctx)
		close(stop)
		<-stopped
		if err != nil {
			t.Errorf("Wait gave up under 1ms requests every 10ms: %v", err)
		}
		conns.Wait(context.Background())
	})
}

// Waits that all start while a failing task runs must each report its error
// or give up: an Add right after the first of them returns starts a new
// round, and must not make another return nil.
func TestConcurrentWaitsKeepTheRoundTheyCovered(t *testing.T) {
	errA := errors.New("A")
	for iter := range 2000 {
		g := waitgroup.New()
		release := make(chan struct{})
		g.Go(func(context.Context) error { <-release; return errA })
		const n = 8
		results := make(chan error, n)
		ctx, cancel := context.WithCancel(context.Background())
		for range n {
			go func() { results <- g.Wait(ctx) }()
		}
		close(release)
		first := <-results
		id := g.Add()
		stop := time.AfterFunc(time.Millisecond, cancel) // let the others give up
		for range n - 1 {
			if err := <-results; err == nil {
				t.Fatalf("iter %d: a Wait that covered the failing task returned nil (first: %v)", iter, first)
			}
		}
		stop.Stop()
		cancel()
		g.Done(id)
	}
}

type adder interface {
	Add(...waitgroup.TaskOption) waitgroup.ID
}

// An unnamed Add reports the line that called it, however it is called.
func TestAddCallSiteShapes(t *testing.T) {
	tests := map[string]func(g *waitgroup.Group){
		"direct":       func(g *waitgroup.Group) { g.Add() },
		"method value": func(g *waitgroup.Group) { add := g.Add; add() },
		"method expr":  func(g *waitgroup.Group) { (*waitgroup.Group).Add(g) },
		"interface":    func(g *waitgroup.Group) { var a adder = g; a.Add() },
		"defer":        func(g *waitgroup.Group) { defer g.Add() },
	}
	for name, f := range tests {
		t.Run(name, func(t *testing.T) {
			g := waitgroup.New()
			f(g)
			p := g.Pending()
			if len(p) != 1 || !strings.HasPrefix(p[0].Where, "Add at waitgroup_test/regress2_test.go:") {
				t.Fatalf("Pending = %+v, want the call site in this file", p)
			}
			g.Done(p[0].ID)
		})
	}
}
