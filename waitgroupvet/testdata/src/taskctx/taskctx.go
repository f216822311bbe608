package taskctx

import (
	"context"
	"time"

	fakeerrgroup "example.com/fake/errgroup"
	fake "example.com/fake/waitgroup"
	"github.com/gowaitgroup/waitgroup"
	"golang.org/x/sync/errgroup"
)

func fetch(ctx context.Context) error { return ctx.Err() }

var background = context.Background()

func ignored(ctx, reqCtx context.Context, items []string) error {
	g := waitgroup.WithContext(ctx, waitgroup.CancelOnError())
	defer g.Cancel(nil)
	g.Go(func(_ context.Context) error { // want `the task passed to g.Go ignores its ctx parameter and uses ctx from outside, so cancellation by g cannot reach it: use the parameter$`
		return fetch(ctx)
	})
	g.TryGo(func(context.Context) error { return fetch(ctx) }) // want `the task passed to g.TryGo ignores its ctx parameter and uses ctx`
	g.Go(func(c context.Context) error {                       // want `the task passed to g.Go ignores its ctx parameter`
		return fetch(ctx)
	}, waitgroup.Name("unused c"))
	g.Go(func(ctx context.Context) error { return fetch(reqCtx) })   // want `the task passed to g.Go ignores its ctx parameter and uses reqCtx from outside, so cancellation by g cannot reach it: use the parameter, from a group made with waitgroup.WithContext\(reqCtx\) if the task must also end with reqCtx$`
	g.Go(func(_ context.Context) error { return fetch(background) }) // want `uses background from outside`
	g.Go(func(_ context.Context) error {                             // want `uses ctx and reqCtx from outside, so cancellation by g cannot reach it: use the parameter, from a group made with waitgroup.WithContext\(ctx\) or the like$`
		if err := fetch(ctx); err != nil {
			return err
		}
		return fetch(reqCtx)
	})
	r := waitgroup.NewResults[int](g)
	r.Go(func(_ context.Context) (int, error) { return 1, fetch(ctx) }) // want `the task passed to r.Go ignores its ctx parameter and uses ctx from outside, so cancellation by r cannot reach it`
	sub := g.Sub()
	sub.Go(func(_ context.Context) error { // want `the task passed to sub.Go ignores its ctx parameter`
		go func() { _ = fetch(ctx) }()
		return nil
	})
	waitgroup.Map(ctx, items, func(_ context.Context, it string) (int, error) { // want `the function passed to waitgroup.Map ignores its ctx parameter and uses ctx from outside, so cancellation by waitgroup.Map cannot reach it`
		return len(it), fetch(ctx)
	})
	waitgroup.MapSeq(ctx, nil, func(context.Context, string) (int, error) { return 0, fetch(ctx) }) // want `the function passed to waitgroup.MapSeq ignores its ctx parameter`
	return g.Wait(ctx)
}

// Without a group derived from the context the task uses, naming the
// parameter would lose that context's cancellation: no fix.
func notDerived(ctx context.Context, p *waitgroup.Group) {
	g := waitgroup.New(waitgroup.CancelOnError())
	g.Go(func(_ context.Context) error { return fetch(ctx) }) // want `the task passed to g.Go ignores its ctx parameter and uses ctx from outside, so cancellation by g cannot reach it: use the parameter, from a group made with waitgroup.WithContext\(ctx\) if the task must also end with ctx`
	p.Go(func(_ context.Context) error { return fetch(ctx) }) // want `the task passed to p.Go ignores its ctx parameter`
}

func errgroupIgnored(ctx context.Context) error {
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		return fetch(ctx) // want `the task passed to g.Go uses ctx, not gctx that errgroup.WithContext derived for g, so g's cancellation cannot reach it: use gctx`
	})
	g.Go(func() error { return fetch(gctx) })
	h, _ := errgroup.WithContext(ctx)
	h.TryGo(func() error {
		return fetch(ctx) // want `the task passed to h.TryGo uses ctx, but the context errgroup.WithContext derived from it for h is discarded \(h, _ :=\), so h's cancellation cannot reach the task: name that context and use it in the tasks`
	})
	if err := h.Wait(); err != nil {
		return err
	}
	return g.Wait()
}

// Look-alikes that must not be reported.

type service struct {
	ctx context.Context
	g   *waitgroup.Group
}

func (s *service) run(ctx context.Context) error { return fetch(ctx) }

func fine(ctx context.Context, s *service, g *waitgroup.Group, fg *fake.Group) {
	g.Go(func(ctx context.Context) error { return fetch(ctx) })
	g.Go(func(c context.Context) error {
		return fetch(c)
	})
	g.Go(func(c context.Context) error {
		f := func() error { return fetch(c) }
		return f()
	})
	g.Go(func(context.Context) error { return nil })
	g.Go(s.run)
	g.Go(func(_ context.Context) error { return fetch(s.ctx) })                      // a field: may hold anything
	g.Go(func(_ context.Context) error { return fetch(context.WithoutCancel(ctx)) }) // detached on purpose
	gctx := g.Context()
	g.Go(func(_ context.Context) error { return fetch(gctx) })
	tctx, cancel := context.WithTimeout(s.g.Context(), time.Second)
	defer cancel()
	g.Go(func(_ context.Context) error { return fetch(tctx) })
	fg.Go(func(_ context.Context) error { return fetch(ctx) })
	g.Go(func(context.Context) error { // reads a value only
		_ = ctx.Value("request id")
		return nil
	})
	inner := func(ctx context.Context) {
		g.Go(func(context.Context) error { return nil })
		_ = ctx
	}
	_ = inner
}

func errgroupFine(ctx, other context.Context) error {
	var eg errgroup.Group
	eg.Go(func() error { return fetch(ctx) }) // no derived context to use
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		if err := fetch(gctx); err != nil {
			return err
		}
		return fetch(ctx) // also uses gctx: may mean it
	})
	g.Go(func() error { return fetch(other) }) // not the parent
	fg, _ := fakeerrgroup.WithContext(ctx)
	fg.Go(func() error { return fetch(ctx) })
	_ = fg.Wait()
	_ = eg.Wait()
	return g.Wait()
}
