package graceful

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/gowaitgroup/waitgroup"
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
//     are left, and the task returns an error that names the requests still
//     running and matches [waitgroup.ErrStageTimeout] and
//     [context.DeadlineExceeded] (not [ErrTimeout]: the service's deadline
//     has not passed), with a [*waitgroup.WaitError] inside.
//
// Each request is tracked in reqs, from the moment its handler is called
// until it returns, as a task named by its method and path ("GET /events"),
// so that a handler still running after its connection was closed keeps
// the service's shutdown waiting, and is named when the deadline passes,
// instead of running on unseen after Run has returned. reqs should be a
// [waitgroup.Group.Sub] of the group that runs the task, so that waiting
// for that group waits for the requests; the tracking costs an Add and a
// Done per request. Handlers may add work of their own to reqs.
//
// The task returns nil after a clean shutdown (never
// [http.ErrServerClosed]). If serving fails before the context is done, for
// instance because l was closed by someone else, the task returns the error
// of [http.Server.Serve] at once, so that under [Run] the service's
// shutdown starts now, and shuts srv down the same way in a task of reqs.
// To see connections that have sent no request, the task wraps
// srv.ConnState, calling the hook already set, and it wraps srv.Handler.
//
// The task must be run once, by one goroutine (as Go does); srv's handlers
// run concurrently as usual. Shutdown does not wait for hijacked
// connections (WebSockets), nor for goroutines that handlers start: track
// those in reqs. srv must not be shared with another task, and its
// handlers' request contexts are not cancelled by the shutdown, since
// requests already accepted should finish.
func ServeHTTP(reqs *waitgroup.Group, srv *http.Server, l net.Listener, timeout time.Duration) func(ctx context.Context) error {
	if reqs == nil || srv == nil || l == nil {
		panic("graceful: ServeHTTP with nil group, server or listener")
	}
	return func(ctx context.Context) error {
		s := &httpServer{
			srv: srv, reqs: reqs, addr: l.Addr(), timeout: timeout,
			fresh:   make(map[net.Conn]struct{}),
			running: make(map[waitgroup.ID]struct{}),
		}
		s.wrap()
		served := make(chan error, 1)
		go func() { served <- srv.Serve(l) }()
		select {
		case err := <-served:
			served <- nil // Serve has returned; its connections may live on
			if errors.Is(err, http.ErrServerClosed) {
				return s.shutdown(served) // closed by its owner, on purpose
			}
			reqs.Go(func(context.Context) error { return s.shutdown(served) },
				waitgroup.Name(fmt.Sprintf("shutdown of the HTTP server on %v", s.addr)))
			return fmt.Errorf("graceful: serving HTTP on %v: %w", s.addr, err)
		case <-ctx.Done():
			return s.shutdown(served)
		}
	}
}

type httpServer struct {
	srv     *http.Server
	reqs    *waitgroup.Group
	addr    net.Addr
	timeout time.Duration

	mu      sync.Mutex                // protects the maps
	fresh   map[net.Conn]struct{}     // connections that have sent no request yet
	running map[waitgroup.ID]struct{} // the requests whose handler runs, in reqs
}

// maxRequestName bounds the name of a request's task: the path comes from
// the client.
const maxRequestName = 100

// wrap makes srv record its fresh connections and track its requests.
func (s *httpServer) wrap() {
	hook := s.srv.ConnState
	s.srv.ConnState = func(c net.Conn, st http.ConnState) {
		s.mu.Lock()
		if st == http.StateNew {
			s.fresh[c] = struct{}{}
		} else {
			delete(s.fresh, c)
		}
		s.mu.Unlock()
		if hook != nil {
			hook(c, st)
		}
	}
	h := s.srv.Handler
	if h == nil {
		h = http.DefaultServeMux
	}
	s.srv.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := r.Method + " " + r.URL.Path
		if len(name) > maxRequestName {
			name = name[:maxRequestName] + "…"
		}
		id := s.reqs.Add(waitgroup.Name(name))
		s.mu.Lock()
		s.running[id] = struct{}{}
		s.mu.Unlock()
		// Deferred, so that a panicking handler (which net/http recovers)
		// is done too.
		defer func() {
			s.mu.Lock()
			delete(s.running, id)
			s.mu.Unlock()
			s.reqs.Done(id)
		}()
		h.ServeHTTP(w, r)
	})
}

// shutdown shuts the server down within the timeout, then closes what is
// left. served delivers once Serve has returned.
func (s *httpServer) shutdown(served <-chan error) error {
	ctx, cancel := context.Background(), context.CancelFunc(func() {})
	if s.timeout > 0 {
		ctx, cancel = context.WithTimeoutCause(ctx, s.timeout, waitgroup.ErrStageTimeout)
	}
	defer cancel()
	shut := make(chan error, 1)
	go func() { shut <- s.srv.Shutdown(ctx) }()
	<-served // Serve returns ErrServerClosed as soon as Shutdown begins
	// Connections that have not sent a request yet: Shutdown would wait up
	// to 5s for them (golang.org/issue/22682), so they are closed as soon
	// as Serve has stopped accepting.
	s.mu.Lock()
	for c := range s.fresh {
		c.Close()
	}
	s.mu.Unlock()
	err := <-shut
	if err == nil || ctx.Err() == nil {
		// Done in time. An error then is the listener's close, which
		// fails when whoever broke Serve had closed it already.
		if errors.Is(err, net.ErrClosed) {
			err = nil
		}
		return err
	}
	cerr := s.srv.Close()
	we := s.late(ctx)
	return fmt.Errorf("graceful: HTTP server on %v: connections still busy after %v were closed, with %d requests still running: %w",
		s.addr, s.timeout, we.Total, errors.Join(we, cerr))
}

// late describes the requests whose handlers still run after ctx, the
// stage's, ended, as a Wait on them would.
func (s *httpServer) late(ctx context.Context) *waitgroup.WaitError {
	s.mu.Lock()
	var pending []waitgroup.TaskInfo
	for _, t := range s.reqs.Pending() {
		if _, ok := s.running[t.ID]; ok {
			pending = append(pending, t)
		}
	}
	s.mu.Unlock()
	return lateTasks(ctx, pending)
}
