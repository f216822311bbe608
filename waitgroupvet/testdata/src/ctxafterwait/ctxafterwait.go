package ctxafterwait

import (
	"context"
	"errors"

	fakeerrgroup "example.com/fake/errgroup"
	"github.com/gowaitgroup/waitgroup"
	"golang.org/x/sync/errgroup"
)

func save(ctx context.Context) error { return ctx.Err() }

func after(ctx context.Context) error {
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return save(gctx) })
	if err := g.Wait(); err != nil {
		return err
	}
	return save(gctx) // want `gctx is used after g.Wait returned, but errgroup cancels it when Wait returns: use ctx, or a context that outlives g, for work after g.Wait`
}

func inLoop(ctx context.Context, n int) error {
	g, gctx := errgroup.WithContext(ctx)
	for range n {
		g.Go(func() error { return save(gctx) }) // want `gctx is used after g.Wait returned`
		if err := g.Wait(); err != nil {
			return err
		}
	}
	return nil
}

func stored(ctx context.Context) context.Context {
	g, gctx := errgroup.WithContext(ctx)
	_ = g.Wait()
	next := gctx // want `gctx is used after g.Wait returned`
	_ = next
	go func() { _ = save(gctx) }() // want `gctx is used after g.Wait returned`
	return gctx                    // want `gctx is used after g.Wait returned`
}

func sameStatement(ctx context.Context) error {
	g, gctx := errgroup.WithContext(ctx)
	return errors.Join(g.Wait(), save(gctx)) // want `gctx is used after g.Wait returned`
}

// Look-alikes that must not be reported.

func fine(ctx context.Context, items []int) error {
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return save(gctx) })
	err := g.Wait()
	if err == nil && gctx.Err() != nil { // reads its state
		err = context.Cause(gctx)
	}
	for range items { // a new group and context each time round
		h, hctx := errgroup.WithContext(ctx)
		h.Go(func() error { return save(hctx) })
		if err := h.Wait(); err != nil {
			return err
		}
	}
	other, octx := errgroup.WithContext(ctx)
	_ = save(octx) // before Wait
	_ = other.Wait()
	again, actx := errgroup.WithContext(ctx)
	_ = again.Wait()
	again, actx = errgroup.WithContext(ctx) // reassigned
	_ = save(actx)
	_ = again.Wait()
	fg, fctx := fakeerrgroup.WithContext(ctx)
	_ = fg.Wait()
	_ = save(fctx)
	wg := waitgroup.WithContext(ctx) // Wait does not cancel it
	defer wg.Cancel(nil)
	_ = wg.Wait(ctx)
	_ = save(wg.Context())
	return err
}

func deferred(ctx context.Context) error {
	g, gctx := errgroup.WithContext(ctx)
	defer func() { _ = g.Wait() }() // waits at the end
	g.Go(func() error { return save(gctx) })
	return save(gctx)
}
