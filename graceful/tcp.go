package graceful

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"syscall"
	"time"

	"github.com/gowaitgroup/waitgroup"
)

// ServeTCP returns a task, for [waitgroup.Group.Go], that accepts
// connections on l and runs handle for each one as a task of conns, until
// the task's context is done. Then it drains in order:
//
//  1. l is closed, so new connections are refused;
//  2. the task waits, at most timeout, for the connections' handlers to
//     return (zero or less means no bound of its own); handle sees conns'
//     context done and should finish the exchange in progress and return;
//  3. if the timeout passes, every connection still open is closed, which
//     makes blocked reads and writes fail, and the task returns an error
//     that names them and matches [waitgroup.ErrStageTimeout] and
//     [context.DeadlineExceeded] (not [ErrTimeout]: the service's deadline
//     has not passed), with a [*waitgroup.WaitError] inside.
//
// conns should be a sub-group of the group that runs the task (see
// [waitgroup.Group.Sub]): its context is then cancelled with the group's,
// and the group's Wait, hence Run, also waits for connections that outlive
// the task after being closed, and reports their errors. conns should not
// cancel on error, so that one bad connection does not stop the service.
//
// For the same reason handle should return nil for failures that concern
// only its connection (after logging them): an error it returns is a
// failure of the service, and is treated as one when it happens. The first
// such error before the task's context is done stops the accept loop and
// the task returns it at once, so that under [Run] the service's shutdown
// starts now; the connections are then drained as above in a task of
// conns, which reports a passed timeout. An Accept error that signals a
// shortage (too many open files, a timeout) is retried after a pause that
// grows from 5ms to 1s; any other ends the task the same way.
//
// The task must be run once; handle runs concurrently, once per
// connection, each call in a task of conns named "conn from" and the
// remote address. handle must not close c; the task closes it when handle
// returns.
func ServeTCP(conns *waitgroup.Group, l net.Listener, handle func(ctx context.Context, c net.Conn) error, timeout time.Duration) func(ctx context.Context) error {
	if conns == nil || l == nil || handle == nil {
		panic("graceful: ServeTCP with nil group, listener or handler")
	}
	return func(ctx context.Context) error {
		s := &tcpServer{conns: conns, l: l, handle: handle, addr: l.Addr(), timeout: timeout,
			open: make(map[net.Conn]struct{}), idle: make(chan struct{})}
		// Closing the listener is what ends a blocked Accept.
		stop := context.AfterFunc(ctx, func() { l.Close() })
		defer stop()
		if err := s.accept(ctx); err != nil {
			conns.Go(func(context.Context) error { return s.drain() }, waitgroup.Name(s.drainName()))
			return err
		}
		return s.drain()
	}
}

type tcpServer struct {
	conns   *waitgroup.Group
	l       net.Listener
	handle  func(context.Context, net.Conn) error
	addr    net.Addr
	timeout time.Duration

	mu       sync.Mutex
	open     map[net.Conn]struct{} // protected by mu: connections whose handle has not returned
	stopped  bool                  // protected by mu: the accept loop has ended
	failure  error                 // protected by mu: the handler error that ended it, if any
	idle     chan struct{}         // closed once stopped and no connection is open
	idleDone bool                  // protected by mu: idle is closed
}

// accept runs the accept loop until ctx is done (nil), or a handler or
// Accept fails for good (the error).
func (s *tcpServer) accept(ctx context.Context) error {
	var pause time.Duration
	for {
		c, err := s.l.Accept()
		if err != nil {
			if ctx.Err() != nil || s.failed() != nil {
				return s.stop(nil)
			}
			if retryable(err) {
				// Out of file descriptors and the like: wait, as
				// net/http does, rather than spin or give up.
				pause = min(max(2*pause, 5*time.Millisecond), time.Second)
				t := time.NewTimer(pause)
				select {
				case <-t.C:
				case <-ctx.Done():
					t.Stop()
				}
				continue
			}
			s.l.Close()
			return s.stop(fmt.Errorf("graceful: accepting on %v: %w", s.addr, err))
		}
		pause = 0
		if ctx.Err() != nil || s.failed() != nil {
			// Accepted in the instant between the cancellation and the
			// listener's close: the listener counts as closed already.
			c.Close()
			return s.stop(nil)
		}
		s.mu.Lock()
		s.open[c] = struct{}{}
		s.mu.Unlock()
		remote := c.RemoteAddr().String()
		s.conns.Go(func(ctx context.Context) error {
			defer s.closed(c)
			err := s.handle(ctx, c)
			if err != nil && s.fail(fmt.Errorf("graceful: TCP server on %v: connection from %s failed: %w", s.addr, remote, err)) {
				return nil // the accept task reports it, once
			}
			return err
		}, waitgroup.Name("conn from "+remote))
	}
}

// failed returns the handler error that stops the accept loop, if any.
func (s *tcpServer) failed() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.failure
}

// fail makes err, a handler's, the failure of the service if it is the
// first before the accept loop ended, and reports whether it did.
func (s *tcpServer) fail(err error) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped || s.failure != nil {
		return false
	}
	s.failure = err
	s.l.Close() // ends a blocked Accept
	return true
}

// stop marks the accept loop as ended and returns its error: err, or the
// handler failure that ended it.
func (s *tcpServer) stop(err error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stopped = true
	s.idleLocked()
	if err == nil {
		err = s.failure
	}
	return err
}

// closed closes c, whose handler has returned.
func (s *tcpServer) closed(c net.Conn) {
	s.mu.Lock()
	delete(s.open, c)
	s.idleLocked()
	s.mu.Unlock()
	c.Close()
}

func (s *tcpServer) idleLocked() {
	if s.stopped && len(s.open) == 0 && !s.idleDone {
		s.idleDone = true
		close(s.idle)
	}
}

func (s *tcpServer) drainName() string {
	return fmt.Sprintf("drain of the TCP server on %v", s.addr)
}

// retryable reports whether an Accept error is a passing shortage of
// resources rather than a broken listener.
func retryable(err error) bool {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	return errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) ||
		errors.Is(err, syscall.ENOBUFS) || errors.Is(err, syscall.ENOMEM)
}

// drain waits for the connections' handlers, then closes the connections
// left after the timeout.
func (s *tcpServer) drain() error {
	ctx, cancel := context.Background(), context.CancelFunc(func() {})
	if s.timeout > 0 {
		ctx, cancel = context.WithTimeoutCause(ctx, s.timeout, waitgroup.ErrStageTimeout)
	}
	defer cancel()
	select {
	case <-s.idle:
		// Drained. handle's errors are the group's to report, through
		// the link that Sub made, not this task's.
		return nil
	case <-ctx.Done():
	}
	s.mu.Lock()
	n := len(s.open)
	for c := range s.open {
		c.Close()
	}
	s.mu.Unlock()
	// What is still running in conns: the connections' tasks, and any
	// work their handlers added; not this drain when it runs in conns.
	var pending []waitgroup.TaskInfo
	for _, t := range s.conns.Pending() {
		if t.Name != s.drainName() {
			pending = append(pending, t)
		}
	}
	return fmt.Errorf("graceful: TCP server on %v: closed %d connections still open after %v: %w",
		s.addr, n, s.timeout, lateTasks(ctx, pending))
}
