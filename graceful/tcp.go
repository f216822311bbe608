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
//  2. the task waits, at most timeout, for the connections' tasks to end
//     (zero or less means no bound of its own); handle sees conns' context
//     done and should finish the exchange in progress and return;
//  3. if the timeout passes, every connection still open is closed, which
//     makes blocked reads and writes fail, and the task returns an error
//     that names them and matches [ErrTimeout] and [context.DeadlineExceeded].
//
// conns should be a sub-group of the group that runs the task (see
// [waitgroup.Group.Sub]): its context is then cancelled with the group's,
// and the group's Wait, hence Run, also waits for connections that outlive
// the task after being closed, and reports handle's errors. conns should not
// cancel on error, so that one bad connection does not stop the service.
// For the same reason handle should return nil for failures that concern
// only its connection (after logging them): an error it returns is a
// failure of the service.
//
// The task must be run once; handle runs concurrently, once per
// connection, each call in a task of conns. handle must not close c; the task closes it when handle returns. An
// Accept error that signals a shortage (too many open files, a timeout) is
// retried after a pause that grows from 5ms to 1s; any other ends the task
// with that error.
func ServeTCP(conns *waitgroup.Group, l net.Listener, handle func(ctx context.Context, c net.Conn) error, timeout time.Duration) func(ctx context.Context) error {
	if conns == nil || l == nil || handle == nil {
		panic("graceful: ServeTCP with nil group, listener or handler")
	}
	return func(ctx context.Context) error {
		s := &tcpServer{open: make(map[net.Conn]struct{})}
		// Closing the listener is what ends a blocked Accept.
		stop := context.AfterFunc(ctx, func() { l.Close() })
		defer stop()
		if err := s.accept(ctx, conns, l, handle); err != nil {
			return err
		}
		return s.drain(conns, l.Addr(), timeout)
	}
}

type tcpServer struct {
	mu   sync.Mutex
	open map[net.Conn]struct{} // protected by mu: connections whose handle has not returned
}

// accept runs the accept loop until ctx is done (nil) or Accept fails for
// good (the error).
func (s *tcpServer) accept(ctx context.Context, conns *waitgroup.Group, l net.Listener, handle func(context.Context, net.Conn) error) error {
	var pause time.Duration
	for {
		c, err := l.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
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
			l.Close()
			return fmt.Errorf("graceful: accepting on %v: %w", l.Addr(), err)
		}
		pause = 0
		if ctx.Err() != nil {
			// Accepted in the instant between the cancellation and the
			// listener's close: the listener counts as closed already.
			c.Close()
			return nil
		}
		s.mu.Lock()
		s.open[c] = struct{}{}
		s.mu.Unlock()
		conns.Go(func(ctx context.Context) error {
			defer func() {
				s.mu.Lock()
				delete(s.open, c)
				s.mu.Unlock()
				c.Close()
			}()
			return handle(ctx, c)
		}, waitgroup.Name("conn from "+c.RemoteAddr().String()))
	}
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

// drain waits for the connections, then closes those left after timeout.
func (s *tcpServer) drain(conns *waitgroup.Group, addr net.Addr, timeout time.Duration) error {
	ctx, cancel := context.Background(), context.CancelFunc(func() {})
	if timeout > 0 {
		ctx, cancel = context.WithTimeoutCause(ctx, timeout, ErrTimeout)
	}
	defer cancel()
	err := conns.Wait(ctx)
	var we *waitgroup.WaitError
	if !errors.As(err, &we) {
		// Drained. handle's errors are the group's to report, through the
		// link that Sub made, not this task's.
		return nil
	}
	s.mu.Lock()
	n := len(s.open)
	for c := range s.open {
		c.Close()
	}
	s.mu.Unlock()
	return fmt.Errorf("graceful: TCP server on %v: closed %d connections still open after %v: %w", addr, n, timeout, we)
}
