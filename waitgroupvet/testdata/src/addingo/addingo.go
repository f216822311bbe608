package addingo

import (
	"context"
	"fmt"
	"log"
	"sync"

	fake "example.com/fake/waitgroup"
	"github.com/gowaitgroup/waitgroup"
)

func secondStatement(items []string) {
	var wg sync.WaitGroup
	for _, it := range items {
		go func() {
			log.Print(it)
			wg.Add(1) // want `wg.Add is called inside the goroutine it accounts for, so wg.Wait may return before it runs: call wg.Add before the go statement`
			defer wg.Done()
		}()
	}
	wg.Wait()
}

func firstStatement() {
	var wg sync.WaitGroup
	go func() {
		wg.Add(1) // want `wg.Add is called inside the goroutine`
		defer func() { wg.Done() }()
	}()
	wg.Wait()
}

func worker(wg *sync.WaitGroup, n int) {
	fmt.Println(n)
	wg.Add(1) // want `wg.Add is called inside worker, which the go statement at addingo.go:42 runs as a new goroutine, so wg.Wait may return before it runs: call wg.Add before the go statement`
	defer wg.Done()
}

func named() {
	var wg sync.WaitGroup
	go worker(&wg, 1)
	wg.Wait()
}

func params() {
	var wg sync.WaitGroup
	go func(w *sync.WaitGroup) {
		w.Add(2) // want `w.Add is called inside the goroutine`
		go fmt.Println()
		w.Done()
		w.Done()
	}(&wg)
	wg.Wait()
}

type server struct {
	wg sync.WaitGroup
	g  *waitgroup.Group
}

func (s *server) serve() {
	s.wg.Add(1) // want `s.wg.Add is called inside s.serve, which the go statement at addingo.go:67 runs as a new goroutine`
	defer s.wg.Done()
}

func (s *server) Start() { go s.serve() }

func (s *server) Close() { s.wg.Wait() }

func (s *server) track(ctx context.Context) {
	go func() {
		id := s.g.Add(waitgroup.Name("flush")) // want `s.g.Add is called inside the goroutine it accounts for, so s.g.Wait may return before it runs: call s.g.Add before the go statement, or start the work with s.g.Go`
		defer s.g.Done(id)
	}()
}

func (s *server) Stop(ctx context.Context) error { return s.g.Wait(ctx) }

func ours(ctx context.Context, g *waitgroup.Group) error {
	go func() {
		log.Print("start")
		var id waitgroup.ID
		id = g.Add() // want `g.Add is called inside the goroutine`
		defer g.Done(id)
	}()
	go func() {
		defer g.Done(g.Add()) // want `g.Add is called inside the goroutine`
	}()
	return g.Wait(ctx)
}

// Look-alikes that must not be reported.

func right(items []string) {
	var wg sync.WaitGroup
	for range items {
		wg.Add(1)
		go func() { defer wg.Done() }()
	}
	wg.Wait()
}

func producer(ch chan int) {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for range ch {
			wg.Add(1) // counts a goroutine it starts, while counted itself
			go func() { defer wg.Done() }()
		}
	}()
	wg.Wait()
}

func covered() {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		wg.Add(1) // the goroutine is counted already
		wg.Done()
	}()
	wg.Wait()
}

func noWait() {
	var wg sync.WaitGroup
	go func() {
		wg.Add(1) // nothing waits for wg
		defer wg.Done()
	}()
}

func otherGroup() {
	var wg, other sync.WaitGroup
	go func() {
		wg.Add(1) // other is waited for, not wg
		defer wg.Done()
	}()
	other.Wait()
}

func unknownDelta(n int) {
	var wg sync.WaitGroup
	go func() {
		wg.Add(n)
		defer wg.Done()
	}()
	wg.Wait()
}

func localToGoroutine() {
	var wg sync.WaitGroup
	go func() {
		var wg sync.WaitGroup
		wg.Add(1)
		wg.Done()
		wg.Wait()
	}()
	wg.Wait()
}

func handedOver(ctx context.Context, g *waitgroup.Group, ids chan<- waitgroup.ID) error {
	go func() {
		ids <- g.Add() // done by whoever receives it
	}()
	outer := g.Add()
	go func() {
		defer g.Done(outer)
		id := g.Add() // the goroutine holds outer already
		_ = g.Done(id)
	}()
	return g.Wait(ctx)
}

func later(ctx context.Context, g *waitgroup.Group) error {
	go func() {
		f := func() { // stored, maybe run elsewhere
			id := g.Add()
			defer g.Done(id)
		}
		_ = f
	}()
	return g.Wait(ctx)
}

func lookAlike(ctx context.Context, g *fake.Group) error {
	go func() {
		id := g.Add()
		defer g.Done(id)
	}()
	return g.Wait(ctx)
}

func otherPackage(wg *sync.WaitGroup) {
	go fmt.Println(wg)
	wg.Wait()
}
