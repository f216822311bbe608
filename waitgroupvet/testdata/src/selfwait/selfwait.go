package selfwait

import (
	"context"
	"sync"

	fake "example.com/fake/waitgroup"
	"github.com/gowaitgroup/waitgroup"
	"golang.org/x/sync/errgroup"
)

type service struct{ g *waitgroup.Group }

func ours(ctx context.Context, s *service) error {
	g := waitgroup.New()
	g.Go(func(ctx context.Context) error {
		return g.Wait(ctx) // want `g.Wait is called inside a task of g, so it waits for itself and gives up only when its ctx ends: call g.Wait outside g's tasks`
	})
	g.TryGo(func(ctx context.Context) error {
		if err := g.Wait(ctx); err != nil { // want `g.Wait is called inside a task of g`
			return err
		}
		return nil
	})
	s.g.Go(func(ctx context.Context) error {
		defer func() { _ = s.g.Wait(ctx) }() // want `s.g.Wait is called inside a task of s.g`
		return nil
	})
	sub := g.Sub()
	sub.Go(func(ctx context.Context) error {
		return g.Wait(ctx) // want `g.Wait is called inside a task of sub, which g waits for, so it waits for itself`
	})
	r := waitgroup.NewResults[int](sub)
	r.Go(func(ctx context.Context) (int, error) {
		if _, err := r.Wait(ctx); err != nil { // want `r.Wait is called inside a task of r, so it waits for itself and gives up only when its ctx ends`
			return 0, err
		}
		return 0, g.Wait(ctx) // want `g.Wait is called inside a task of r, which g waits for`
	})
	id := g.Add()
	go func() {
		defer g.Done(id)
		_ = g.Wait(ctx) // want `g.Wait is called inside a goroutine that defers Done on g, so it waits for itself and gives up only when its ctx ends`
	}()
	return g.Wait(ctx)
}

func errgroups(ctx context.Context) error {
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		return g.Wait() // want `g.Wait is called inside a task of g, so it waits for itself and never returns: call g.Wait outside g's tasks`
	})
	return g.Wait()
}

func syncs() {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		wg.Wait() // want `wg.Wait is called inside a goroutine that defers Done on wg, so it waits for itself and never returns`
	}()
	wg.Go(func() {
		wg.Wait() // want `wg.Wait is called inside a task of wg`
	})
	wg.Wait()
}

// Look-alikes that must not be reported.

func fine(ctx context.Context, other *waitgroup.Group, fg *fake.Group) error {
	g := waitgroup.New()
	g.Go(func(ctx context.Context) error {
		return other.Wait(ctx) // another group
	})
	sub := g.Sub()
	g.Go(func(ctx context.Context) error {
		return sub.Wait(ctx) // the parent's task waits for the child: fine
	})
	g.Go(func(ctx context.Context) error {
		go func() { _ = g.Wait(ctx) }() // a goroutine of its own
		return nil
	})
	g.Go(func(ctx context.Context) error {
		done := func() error { return g.Wait(ctx) } // stored, not called here
		_ = done
		return nil
	})
	fg.Go(func(ctx context.Context) error { return fg.Wait(ctx) })
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		wg.Done() // done before it waits
		wg.Wait()
	}()
	go func() {
		defer wg.Wait() // not counted by wg
	}()
	wg.Wait()
	return g.Wait(ctx)
}
