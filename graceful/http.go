package graceful

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"
)

// ServeHTTP returns a task, for [waitgroup.Group.Go], that serves srv on l
// until the task's context is done, then shuts srv down in two steps:
//
//  1. [http.Server.Shutdown]: l is closed, so new connections are refused,
//     idle connections are closed, and requests already being handled run
//     to completion. Connections that have not sent a request yet are
//     closed at once (Shutdown alone would wait up to 5s for them). timeout
//     bounds this step; zero or less means no bound of its own: Run stops
//     waiting at its deadline, but the task does not stop.
//  2. If the timeout passes, [http.Server.Close] closes the connections that
//     are left, and the task returns an error that says so and matches
//     [context.DeadlineExceeded].
//
// The task returns nil after a clean shutdown (never
// [http.ErrServerClosed]). If serving fails before the context is done, for
// instance because l was closed by someone else, the task shuts srv down
// the same way and returns the error of [http.Server.Serve]; under [Run]
// that error shuts the service down. To see connections that have sent no
// request, the task wraps srv.ConnState, calling the hook already set.
//
// The task must be run once, by one goroutine (as Go does); srv's handlers
// run concurrently as usual. Shutdown does not wait for hijacked connections (WebSockets), nor for
// goroutines that handlers start: track those in the group. srv must not be
// shared with another task, and its handlers' request contexts are not
// cancelled by the shutdown, since requests already accepted should finish.
func ServeHTTP(srv *http.Server, l net.Listener, timeout time.Duration) func(ctx context.Context) error {
	if srv == nil || l == nil {
		panic("graceful: ServeHTTP with nil server or listener")
	}
	return func(ctx context.Context) error {
		addr := l.Addr()
		// Connections that have not sent a request yet: Shutdown would wait
		// up to 5s for them (golang.org/issue/22682), so they are closed as
		// soon as Serve has stopped accepting.
		var mu sync.Mutex
		fresh := make(map[net.Conn]struct{})
		hook := srv.ConnState
		srv.ConnState = func(c net.Conn, st http.ConnState) {
			mu.Lock()
			if st == http.StateNew {
				fresh[c] = struct{}{}
			} else {
				delete(fresh, c)
			}
			mu.Unlock()
			if hook != nil {
				hook(c, st)
			}
		}
		served := make(chan error, 1)
		go func() { served <- srv.Serve(l) }()
		var serveErr error
		select {
		case serveErr = <-served:
			if errors.Is(serveErr, http.ErrServerClosed) {
				serveErr = nil // closed by its owner, on purpose
			} else {
				serveErr = fmt.Errorf("graceful: serving HTTP on %v: %w", addr, serveErr)
			}
			served <- nil // Serve has returned; its connections may live on
		case <-ctx.Done():
		}

		// ctx is done, so the stage gets a context of its own.
		sctx, cancel := context.Background(), context.CancelFunc(func() {})
		if timeout > 0 {
			sctx, cancel = context.WithTimeout(sctx, timeout)
		}
		defer cancel()
		shut := make(chan error, 1)
		go func() { shut <- srv.Shutdown(sctx) }()
		<-served // Serve returns ErrServerClosed as soon as Shutdown begins
		mu.Lock()
		for c := range fresh {
			c.Close()
		}
		mu.Unlock()
		err := <-shut
		if err != nil {
			cerr := srv.Close()
			err = fmt.Errorf("graceful: HTTP server on %v: requests still running after %v, connections closed: %w", addr, timeout, errors.Join(err, cerr))
		}
		return errors.Join(serveErr, err)
	}
}
