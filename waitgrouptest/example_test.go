package waitgrouptest_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/gowaitgroup/waitgroup"
	"github.com/gowaitgroup/waitgroup/waitgrouptest"
)

// printTB stands in for a *testing.T in the examples: it prints the first
// line of each failure (the rest, pending durations and stacks, varies from
// run to run outside a synctest bubble) and runs cleanups on demand.
type printTB struct{ cleanups []func() }

func (*printTB) Helper() {}
func (*printTB) Errorf(format string, args ...any) {
	first, _, _ := strings.Cut(fmt.Sprintf(format, args...), "\n")
	fmt.Println("FAIL:", first)
}
func (t *printTB) Fatalf(format string, args ...any) { t.Errorf(format, args...) }
func (t *printTB) Cleanup(f func())                  { t.cleanups = append(t.cleanups, f) }

// end runs the cleanups, last registered first, as at the end of a test.
func (t *printTB) end() {
	for i := len(t.cleanups) - 1; i >= 0; i-- {
		t.cleanups[i]()
	}
}

func ExampleWait() {
	t := &printTB{} // in a test: the *testing.T
	g := waitgroup.New()
	squares := make([]int, 4)
	for i := range squares {
		g.Go(func(context.Context) error {
			squares[i] = i * i
			return nil
		})
	}
	waitgrouptest.Wait(t, g, 5*time.Second)
	fmt.Println(squares)
	// Output: [0 1 4 9]
}

func ExampleWait_taskError() {
	t := &printTB{}
	g := waitgroup.New()
	g.Go(func(context.Context) error { return errors.New("parse config: unexpected EOF") })
	waitgrouptest.Wait(t, g, 5*time.Second)
	// Output: FAIL: waitgrouptest: Wait failed: parse config: unexpected EOF
}

func ExampleNoStragglers() {
	t := &printTB{}
	g := waitgroup.New(waitgroup.GroupName("conns"))
	waitgrouptest.NoStragglers(t, g)

	conn := g.Add(waitgroup.Name("conn 7"))
	g.Add(waitgroup.Name("conn 8")) // the test forgets this one
	_ = g.Done(conn)

	t.end()
	// Output: FAIL: waitgrouptest: 1 task still pending when the test ended (NoStragglers at example_test.go:62):
}

// worker is a service with the usual Start and Close methods.
type worker struct {
	g    *waitgroup.Group
	jobs chan int
	sum  int
}

func (w *worker) Start() error {
	w.g = waitgroup.New()
	w.jobs = make(chan int)
	w.g.Go(func(ctx context.Context) error {
		for j := range w.jobs {
			w.sum += j
		}
		return nil
	}, waitgroup.Name("job loop"))
	return nil
}

func (w *worker) Close() error {
	close(w.jobs)
	return w.g.Wait(context.Background())
}

func ExampleStart() {
	t := &printTB{}
	w := &worker{}
	s := waitgrouptest.Start(t, w.Start, w.Close)
	for j := range 5 {
		w.jobs <- j
	}
	s.Stop() // without it, a cleanup stops the service at the end of the test
	fmt.Println("sum", w.sum)
	// Output: sum 10
}

func ExampleStart_leak() {
	t := &printTB{}
	release := make(chan struct{})
	defer close(release)
	start := func() error {
		go func() { <-release }() // nothing stops it
		return nil
	}
	stop := func() error { return nil }
	waitgrouptest.Start(t, start, stop, waitgrouptest.Timeout(20*time.Millisecond)).Stop()
	// Output: FAIL: waitgrouptest: 1 goroutine started by the service still running 20ms after Stop began:
}

func ExampleRun() {
	t := &printTB{}
	ticks := make(chan int)
	s := waitgrouptest.Run(t, func(ctx context.Context) error {
		g := waitgroup.WithContext(ctx)
		g.Go(func(ctx context.Context) error {
			for i := 0; ; i++ {
				select {
				case ticks <- i:
				case <-ctx.Done():
					return ctx.Err()
				}
			}
		})
		return g.Wait(context.Background())
	})
	fmt.Println(<-ticks, <-ticks, <-ticks)
	s.Stop()
	// Output: 0 1 2
}

// ExampleWait_cancelled waits for tasks that the test cancelled and that end
// with the usual return ctx.Err(): an echo of a cancellation the test asked
// for, so Wait succeeds.
func ExampleWait_cancelled() {
	t := &printTB{}
	g := waitgroup.New()
	for range 3 {
		g.Go(func(ctx context.Context) error {
			<-ctx.Done()
			return ctx.Err()
		})
	}
	g.Cancel(nil)
	waitgrouptest.Wait(t, g, 5*time.Second)
	fmt.Println("stopped")
	// Output: stopped
}

func ExampleIsEcho() {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	fmt.Println(waitgrouptest.IsEcho(fmt.Errorf("read: %w", ctx.Err())))
	fmt.Println(waitgrouptest.IsEcho(errors.Join(errors.New("disk full"), ctx.Err())))
	stop := errors.New("deploy")
	fmt.Println(waitgrouptest.IsEcho(stop), waitgrouptest.IsEcho(stop, stop))
	// Output:
	// true
	// false
	// false true
}

// ExampleListener serves HTTP on an in-memory Listener, as a test inside a
// synctest bubble must (a real listener stops the bubble's clock); it works
// outside a bubble too.
func ExampleListener() {
	l := waitgrouptest.NewListener()
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "hello")
	})}
	g := waitgroup.New()
	g.Go(func(context.Context) error {
		if err := srv.Serve(l); err != http.ErrServerClosed {
			return err
		}
		return nil
	})

	tr := &http.Transport{DialContext: l.DialContext}
	resp, err := (&http.Client{Transport: tr}).Get("http://service.test/")
	if err != nil {
		fmt.Println(err)
		return
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Println(resp.Status, string(body))

	tr.CloseIdleConnections()
	srv.Shutdown(context.Background())
	fmt.Println(g.Wait(context.Background()))
	// Output:
	// 200 OK hello
	// <nil>
}
