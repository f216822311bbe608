package nowait

import (
	"context"

	fakeerrgroup "example.com/fake/errgroup"
	"github.com/gowaitgroup/waitgroup"
	"golang.org/x/sync/errgroup"
)

func fetch(u string) error { return nil }

func zero(urls []string) error {
	var g errgroup.Group
	for _, u := range urls {
		g.Go(func() error { return fetch(u) }) // want `g.Go is called but g.Wait never is, so nothing waits for g's tasks and their errors are lost: call g.Wait\(\) before returning`
	}
	return nil
}

func derived(ctx context.Context) {
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(2)
	g.TryGo(func() error { return ctx.Err() }) // want `g.TryGo is called but g.Wait never is`
	g.Go(func() error { return nil })
}

func pointers() {
	a := new(errgroup.Group)
	a.Go(func() error { return nil }) // want `a.Go is called but a.Wait never is`
	b := &errgroup.Group{}
	b.Go(func() error { return nil }) // want `b.Go is called but b.Wait never is`
}

func ours(ctx context.Context) {
	g := waitgroup.New()
	g.Go(func(context.Context) error { return nil }) // want `g.Go is called but g.Wait never is, so nothing waits for g's tasks and their errors are lost: call g.Wait\(ctx\) before returning`
	var z waitgroup.Group
	z.Go(func(context.Context) error { return nil }) // want `z.Go is called but z.Wait never is`
	w := waitgroup.WithContext(ctx)
	defer w.Cancel(nil)
	sub := w.Sub()
	w.Go(func(context.Context) error { return nil }) // want `w.Go is called but w.Wait never is`
	_ = sub.Wait(ctx)
}

// Look-alikes that must not be reported.

type service struct{ g *errgroup.Group }

func keep(g *errgroup.Group) {}

func fine(ctx context.Context, s *service) (*errgroup.Group, error) {
	var a errgroup.Group
	a.Go(func() error { return nil })
	defer func() { _ = a.Wait() }()

	b, _ := errgroup.WithContext(ctx)
	b.Go(func() error { return nil })
	s.g = b // stored

	c := new(errgroup.Group)
	c.Go(func() error { return nil })
	keep(c) // passed on

	var d errgroup.Group // never started
	d.SetLimit(1)

	parent := waitgroup.New()
	e := waitgroup.New()
	e.Go(func(context.Context) error { return nil })
	parent.Link(e) // waited for by parent
	sub := parent.Sub()
	sub.Go(func(context.Context) error { return nil }) // parent waits for it
	_ = parent.Wait(ctx)

	var f fakeerrgroup.Group
	f.Go(func() error { return nil })

	r := new(errgroup.Group)
	r.Go(func() error { return nil })
	return r, nil
}
