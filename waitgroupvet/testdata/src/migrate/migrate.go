package migrate

import (
	"context"
	"sync"

	"golang.org/x/sync/errgroup"
)

func work(ctx context.Context, n int) error { return ctx.Err() }

func each(items []int) {
	var wg sync.WaitGroup // want `sync.WaitGroup wg maps one to one to a waitgroup.Group, which recovers panics, names stuck tasks and takes a deadline in Wait: start its tasks with wg.Go\(func\(ctx context.Context\) error {...}\) and wait with wg.Wait\(ctx\)`
	for _, it := range items {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if it < 0 {
				return
			}
			_ = work(context.Background(), it)
		}()
	}
	wg.Add(1)
	go func() { defer wg.Done(); _ = work(context.Background(), 0) }()
	wg.Wait()
}

func withContext(ctx context.Context, items []int) {
	var wg sync.WaitGroup // want `sync.WaitGroup wg maps one to one to a waitgroup.Group`
	for _, it := range items {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = work(ctx, it)
		}()
	}
	wg.Wait()
}

func errgroups(ctx context.Context, items []int) error {
	var g errgroup.Group // want `errgroup.Group g maps one to one to a waitgroup.Group`
	g.SetLimit(4)
	for _, it := range items {
		g.Go(func() error { return work(ctx, it) })
	}
	if !g.TryGo(func() error { return nil }) {
		return nil
	}
	if err := g.Wait(); err != nil {
		return err
	}
	return nil
}

func twoContexts(ctx, other context.Context) {
	var wg sync.WaitGroup // want `sync.WaitGroup wg maps one to one`
	wg.Add(1)
	go func() {
		defer wg.Done()
		_ = work(ctx, 1)
		_ = work(other, 2)
	}()
	wg.Wait()
}
