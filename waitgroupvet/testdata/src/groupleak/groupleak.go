package groupleak

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	fake "example.com/fake/waitgroup"
	"github.com/gowaitgroup/waitgroup"
)

func fetch(ctx context.Context, url string) error { return ctx.Err() }

func fanOut(ctx context.Context, urls []string) error {
	g := waitgroup.WithContext(ctx, waitgroup.CancelOnError()) // want `g, made by waitgroup.WithContext\(ctx\), is not cancelled on every path \(the function can return at line 21 without g.Cancel\): its context stays registered with ctx until ctx ends; add defer g.Cancel\(nil\) after making g`
	for _, u := range urls {
		g.Go(func(ctx context.Context) error { return fetch(ctx, u) })
	}
	return g.Wait(ctx)
}

func onErrorOnly(ctx context.Context) error {
	g := waitgroup.WithContext(ctx) // want `g, made by waitgroup.WithContext\(ctx\), is not cancelled on every path \(the function can return at line 30 without g.Cancel\)`
	if err := g.Wait(ctx); err != nil {
		g.Cancel(err)
		return err
	}
	return nil
}

func declared(ctx context.Context) {
	var g = waitgroup.WithContext(ctx) // want `is not cancelled on every path \(the function can return at its end without g.Cancel\)`
	g.Go(func(context.Context) error { return nil })
	_ = g.Wait(ctx)
}

func notWaited(ctx context.Context) {
	g := waitgroup.WithContext(ctx) // want `g, made by waitgroup.WithContext\(ctx\), is not cancelled on every path`
	g.Go(func(context.Context) error { return nil })
}

var handler = func(ctx context.Context, parent *waitgroup.Group) error {
	g := waitgroup.WithContext(parent.Context()) // want `g, made by waitgroup.WithContext\(parent.Context\(\)\), is not cancelled on every path`
	g.Go(func(context.Context) error { return nil })
	return g.Wait(context.Background())
}

func inLoop(ctx context.Context, batches [][]string) error {
	for _, b := range batches {
		g := waitgroup.WithContext(ctx) // want `g, made by waitgroup.WithContext\(ctx\), is not cancelled on every path \(the function can return at line 57 without g.Cancel\)`
		for _, u := range b {
			g.Go(func(ctx context.Context) error { return fetch(ctx, u) })
		}
		if err := g.Wait(ctx); err != nil {
			return err
		}
	}
	return nil
}

// Look-alikes that must not be reported.

type service struct{ g *waitgroup.Group }

var global *waitgroup.Group

func start(g *waitgroup.Group) {}

func fine(ctx context.Context, s *service, parent *waitgroup.Group, r *http.Request, t *testing.T) *waitgroup.Group {
	a := waitgroup.WithContext(ctx)
	defer a.Cancel(nil)
	_ = a.Wait(ctx)

	b := waitgroup.WithContext(ctx)
	defer func() { b.Cancel(errors.New("done")) }()

	s.g = waitgroup.WithContext(ctx) // stored
	c := waitgroup.WithContext(ctx)
	s.g = c
	d := waitgroup.WithContext(ctx)
	start(d)
	e := waitgroup.WithContext(ctx)
	parent.Link(e)
	global = waitgroup.WithContext(ctx)

	n := waitgroup.New() // context.Background: nothing to leak
	n.Go(func(context.Context) error { return nil })
	_ = n.Wait(ctx)

	bg := waitgroup.WithContext(context.Background())
	_ = bg.Wait(ctx)
	detached := waitgroup.WithContext(context.WithoutCancel(ctx))
	_ = detached.Wait(ctx)
	tctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	local := waitgroup.WithContext(tctx) // tctx ends with the function
	_ = local.Wait(ctx)
	req := waitgroup.WithContext(r.Context())
	_ = req.Wait(ctx)
	rctx := r.Context()
	req2 := waitgroup.WithContext(rctx)
	_ = req2.Wait(ctx)
	test := waitgroup.WithContext(t.Context())
	_ = test.Wait(ctx)

	all := waitgroup.WithContext(ctx)
	if err := all.Wait(ctx); err != nil {
		all.Cancel(err)
		return nil
	}
	all.Cancel(nil)

	f := fake.WithContext(ctx)
	_ = f.Wait(ctx)

	ret := waitgroup.WithContext(ctx)
	ret.Go(func(context.Context) error { return nil })
	return ret
}

func closure(ctx context.Context) func() error {
	g := waitgroup.WithContext(ctx)
	return func() error { return g.Wait(ctx) } // g lives on in the closure
}

func run(f func(ctx context.Context) error) {}

func runService() {
	run(func(ctx context.Context) error { // a service's run function
		g := waitgroup.WithContext(ctx)
		g.Go(func(ctx context.Context) error { <-ctx.Done(); return nil })
		return g.Wait(context.Background())
	})
}
