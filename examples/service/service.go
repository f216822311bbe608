package main

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/gowaitgroup/waitgroup"
)

// errDraining is the cause of the connections' context once Close begins.
var errDraining = errors.New("service: draining")

// errForced is matched by the error Close returns when connections were
// still open at the drain deadline and had to be closed under their clients.
var errForced = errors.New("service: connections force-closed after the drain deadline")

// Service is a line-based TCP echo server with the Start/Wait/Close life
// cycle of a long-running service, in two stages of a [waitgroup.Stages]:
//
//   - "accept": a listener, tracked by an ID from [waitgroup.Group.Add] that
//     Start takes and Close hands back, because the listener ends in Close,
//     not in a goroutine; and an accept loop, a task started with Go;
//   - "conns": one task per connection, whose context is cancelled only
//     once the accept stage has stopped, and which has DrainTimeout to
//     stop.
//
// A group named "service" links the stages, so that waiting for the
// service, or listing its pending tasks, covers both.
//
// Close stops it in the order that loses no request: stop accepting, let
// connections finish the request they are serving, force-close those still
// open at the drain deadline, then wait for everything.
//
// Set the fields before Start; the zero value is usable.
type Service struct {
	// DrainTimeout bounds how long Close lets open connections finish
	// before closing them; 0 means 5s.
	DrainTimeout time.Duration
	// ShutdownTimeout bounds the whole of Close; 0 means 10s.
	ShutdownTimeout time.Duration
	// Handle computes the reply to one request line; nil echoes the line.
	Handle func(line string) string

	g        *waitgroup.Group // links the stages
	stages   waitgroup.Stages // intake, then conns
	intake   *waitgroup.Group // the listener ID and the accept loop
	conns    *waitgroup.Group // one task per connection
	l        net.Listener
	listenID waitgroup.ID

	mu     sync.Mutex            // protects open and nconns
	open   map[net.Conn]struct{} // connections not yet closed, for force-closing
	nconns int                   // connections accepted so far, to name them
}

// Start starts serving connections accepted from l. The service owns l from
// then on: Close closes it. Start fails if the service was started before.
func (s *Service) Start(l net.Listener) error {
	if s.g != nil {
		return errors.New("service: Start called twice")
	}
	s.g = waitgroup.New(waitgroup.GroupName("service"))
	s.intake = s.stages.Add("accept", 0)
	s.conns = s.stages.Add("conns", cmp.Or(s.DrainTimeout, 5*time.Second))
	s.g.Link(&s.stages)
	s.open = make(map[net.Conn]struct{})
	s.l = l
	// The listener is work that ends when Close says so: an ID, not a
	// goroutine, keeps Wait from returning before then.
	s.listenID = s.intake.Add(waitgroup.Name("listener " + l.Addr().String()))
	s.intake.Go(s.accept, waitgroup.Name("accept loop"))
	return nil
}

// Addr returns the address the service listens on. Call it after Start.
func (s *Service) Addr() net.Addr { return s.l.Addr() }

// Wait, after Start, returns when the service has stopped (after Close, or if the accept
// loop failed and Close was called), with the errors of its tasks, or when
// ctx is done with an error that names what is still running.
func (s *Service) Wait(ctx context.Context) error { return s.g.Wait(ctx) }

// accept runs the accept loop until the listener is closed.
func (s *Service) accept(context.Context) error {
	for {
		c, err := s.l.Accept()
		if errors.Is(err, net.ErrClosed) {
			return nil // Close closed the listener: the loop's normal end
		}
		if err != nil {
			return fmt.Errorf("accept: %w", err)
		}
		s.mu.Lock()
		s.nconns++
		name := fmt.Sprintf("conn %d from %v", s.nconns, c.RemoteAddr())
		s.open[c] = struct{}{}
		s.mu.Unlock()
		// Go, not go: the connection is tracked from this moment, so a
		// Close that begins now waits for it.
		s.conns.Go(func(ctx context.Context) error { return s.serve(ctx, c) }, waitgroup.Name(name))
	}
}

// serve answers the requests of one connection, one line each, until the
// client hangs up or the service drains.
func (s *Service) serve(ctx context.Context, c net.Conn) error {
	defer s.closeConn(c)
	// When draining begins, wake a Read waiting for the next request: the
	// connection is idle, and closing it loses nothing. A request being
	// served is finished first, since its handler is not in Read.
	stop := context.AfterFunc(ctx, func() { _ = c.SetReadDeadline(time.Now()) })
	defer stop()
	sc := bufio.NewScanner(c)
	for ctx.Err() == nil && sc.Scan() {
		reply := sc.Text()
		if s.Handle != nil {
			reply = s.Handle(reply)
		}
		if _, err := fmt.Fprintln(c, reply); err != nil {
			// The client went away, or Close force-closed the connection.
			return nil
		}
	}
	// A read error is the client hanging up or the drain's deadline: the
	// end of this connection, not a failure of the service.
	return nil
}

func (s *Service) closeConn(c net.Conn) {
	s.mu.Lock()
	delete(s.open, c)
	s.mu.Unlock()
	_ = c.Close()
}

// Close stops the service and waits for it, within ShutdownTimeout:
//
//  1. it closes the listener, so that no connection is accepted from now on
//     and the accept loop ends, and hands back the listener's ID;
//  2. it stops the stages: the accept stage, then the connections, told to
//     drain only once nothing can be accepted any more: idle ones close at
//     once, busy ones after the request they serve, within DrainTimeout,
//     the stage's bound;
//  3. it force-closes the connections still open after that bound;
//  4. it waits for the whole service: accept loop and every connection.
//
// The listener goes first because a connection accepted during the drain
// would have to be drained too: the drain could never end under load.
//
// Close returns the errors of every step, joined: an error matching
// errForced that lists the connections that had to be force-closed, and the
// errors of the tasks (a panicking Handle, a failed accept loop).
func (s *Service) Close() error {
	if s.g == nil {
		return errors.New("service: Close before Start")
	}
	ctx, cancel := context.WithTimeout(context.Background(), cmp.Or(s.ShutdownTimeout, 10*time.Second))
	defer cancel()
	var errs []error

	if err := s.l.Close(); err != nil {
		errs = append(errs, fmt.Errorf("close listener: %w", err))
	}
	if err := s.intake.Done(s.listenID); err != nil {
		errs = append(errs, err) // Close called twice
	}

	err := s.stages.Stop(ctx, errDraining)
	var se *waitgroup.StageError
	if errors.As(err, &se) && se.Stage == "conns" && errors.Is(se, waitgroup.ErrStageTimeout) {
		n := s.forceClose()
		errs = append(errs, fmt.Errorf("%w: %d still open: %w", errForced, n, se.Err))
	}
	// The tasks' errors are reported by the Wait below, once, with those
	// of the connections that were force-closed.

	if err := s.g.Wait(ctx); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// forceClose closes every connection still open and returns how many.
func (s *Service) forceClose() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.open {
		// The connection's task sees its Read or Write fail and returns;
		// it removes c from open itself.
		_ = c.Close()
	}
	return len(s.open)
}
