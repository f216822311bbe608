package graceful

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"
)

// ServeHTTP returns a task, for [waitgroup.Group.Go], that serves srv on l
// until the task's context is done, then shuts srv down in two steps:
//
//  1. [http.Server.Shutdown]: l is closed, so new connections are refused,
//     idle connections are closed, and requests already being handled run
//     to completion. timeout bounds this step; zero or less means no bound
//     of its own (Run's shutdown deadline still applies to the task).
//  2. If the timeout passes, [http.Server.Close] closes the connections that
//     are left, and the task returns an error that says so and matches
//     [context.DeadlineExceeded].
//
// The task returns nil after a clean shutdown (never
// [http.ErrServerClosed]), and the error of [http.Server.Serve] if serving
// fails before the context is done, for instance because l was closed by
// someone else; under [Run] that error shuts the service down.
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
		// Serve blocks, and so does the wait for ctx: Serve gets a goroutine
		// of its own, which this task always waits for before returning, so
		// the task covers it.
		served := make(chan error, 1)
		go func() { served <- srv.Serve(l) }()
		select {
		case err := <-served:
			if errors.Is(err, http.ErrServerClosed) {
				return nil // closed by its owner, on purpose
			}
			return fmt.Errorf("graceful: serving HTTP on %v: %w", addr, err)
		case <-ctx.Done():
		}

		// ctx is done, so the stage gets a context of its own.
		sctx, cancel := context.Background(), context.CancelFunc(func() {})
		if timeout > 0 {
			sctx, cancel = context.WithTimeout(sctx, timeout)
		}
		defer cancel()
		err := srv.Shutdown(sctx)
		if err != nil {
			cerr := srv.Close()
			err = fmt.Errorf("graceful: HTTP server on %v: requests still running after %v, connections closed: %w", addr, timeout, errors.Join(err, cerr))
		}
		// Serve returned ErrServerClosed as soon as Shutdown began.
		<-served
		return err
	}
}
