package migrate

import (
	"context"
	"sync"

	fakeerrgroup "example.com/fake/errgroup"
	"golang.org/x/sync/errgroup"
)

// Look-alikes that must not be reported.

type server struct{ wg sync.WaitGroup }

func worker(wg *sync.WaitGroup) { defer wg.Done() }

func fine(ctx context.Context, s *server) error {
	var a sync.WaitGroup
	a.Add(1)
	go worker(&a) // passed on
	a.Wait()

	var b sync.WaitGroup
	b.Add(2) // two at once
	go func() { defer b.Done() }()
	go func() { defer b.Done() }()
	b.Wait()

	var c sync.WaitGroup
	c.Add(1)
	go func() {
		work(ctx, 1) // Done not deferred first
		c.Done()
	}()
	c.Wait()

	var d sync.WaitGroup
	d.Add(1)
	defer d.Wait()
	go func() { defer d.Done() }()

	var n sync.WaitGroup
	n.Add(1)
	go func() {
		defer n.Done()
		n.Add(1) // the goroutine uses n again
		go func() { defer n.Done() }()
	}()
	n.Wait()

	var e sync.WaitGroup // never waited for here
	e.Add(1)
	go func() { defer e.Done() }()

	s.wg.Add(1) // a field
	go func() { defer s.wg.Done() }()
	s.wg.Wait()

	var g errgroup.Group
	g.Go(s.run) // not a literal
	h, _ := errgroup.WithContext(ctx)
	h.Go(func() error { return nil })
	var f fakeerrgroup.Group
	f.Go(func() error { return nil })
	_ = f.Wait()
	_ = h.Wait()
	return g.Wait()
}

func (s *server) run() error { return nil }
