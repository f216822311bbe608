package waitgrouptest

import (
	"context"
	"net"
	"sync"
)

// A Listener is an in-memory [net.Listener] for tests, above all tests inside
// a [testing/synctest] bubble: [Listener.Dial] and [Listener.DialContext]
// connect to it through a [net.Pipe], with no network, port or file
// descriptor. Pass it wherever a server takes a net.Listener
// (http.Server.Serve, graceful.ServeHTTP, graceful.ServeTCP) and dial it
// from the test, for HTTP with an http.Transport whose DialContext is the
// Listener's.
//
// A real listener does not work in a bubble: a goroutine blocked in its
// Accept, or in a Read on one of its connections, waits on the network, and
// the bubble does not count that as durably blocked, so the fake clock never
// advances and time.Sleep and synctest.Wait never return; the test hangs
// until go test's -timeout kills it. A Listener's goroutines wait on
// channels instead, and pipe deadlines run on the bubble's clock. Create the
// Listener, and dial it, inside the bubble, so that its channels belong to
// the bubble.
//
// Unlike a network listener there is no backlog: a Dial returns once Accept
// has taken its connection. Accept after Close, and a Dial that Close or its
// context ends, return a *net.OpError that matches [net.ErrClosed] or the
// context's error with [errors.Is]. All methods may be called concurrently.
type Listener struct {
	conns chan net.Conn // unbuffered: Dial hands the server's end to Accept
	done  chan struct{} // closed by Close
	once  sync.Once
}

// NewListener returns an open Listener.
func NewListener() *Listener {
	return &Listener{conns: make(chan net.Conn), done: make(chan struct{})}
}

// listenerAddr is the address of every Listener.
type listenerAddr struct{}

func (listenerAddr) Network() string { return "pipe" }
func (listenerAddr) String() string  { return "waitgrouptest.Listener" }

// Accept waits for a Dial and returns the server's end of its connection.
func (l *Listener) Accept() (net.Conn, error) {
	if l.closed() {
		// Checked first so that a Close that happened before Accept
		// always wins over a Dial waiting at the same time.
		return nil, l.opError("accept", net.ErrClosed)
	}
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, l.opError("accept", net.ErrClosed)
	}
}

// Close stops the Listener: blocked and later calls to Accept and Dial
// fail. Connections already accepted stay open. Only the first call closes;
// later ones return an error matching [net.ErrClosed], as a network
// listener's do.
func (l *Listener) Close() error {
	closed := false
	l.once.Do(func() {
		close(l.done)
		closed = true
	})
	if !closed {
		return l.opError("close", net.ErrClosed)
	}
	return nil
}

// Addr returns the Listener's address, which is the same for every
// Listener: dial with the Listener itself, not its address.
func (l *Listener) Addr() net.Addr { return listenerAddr{} }

// Dial connects to the Listener and returns the client's end of the
// connection once Accept has taken the server's.
func (l *Listener) Dial() (net.Conn, error) {
	return l.DialContext(context.Background(), "", "")
}

// DialContext is [Listener.Dial] bounded by ctx. It ignores network and
// address, so that it can stand in for a dialer, such as http.Transport's
// DialContext: every connection goes to l.
func (l *Listener) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	if l.closed() {
		return nil, l.opError("dial", net.ErrClosed)
	}
	if err := ctx.Err(); err != nil {
		return nil, l.opError("dial", err)
	}
	server, client := net.Pipe()
	select {
	case l.conns <- server:
		return client, nil
	case <-l.done:
		server.Close()
		client.Close()
		return nil, l.opError("dial", net.ErrClosed)
	case <-ctx.Done():
		server.Close()
		client.Close()
		return nil, l.opError("dial", ctx.Err())
	}
}

func (l *Listener) closed() bool {
	select {
	case <-l.done:
		return true
	default:
		return false
	}
}

func (l *Listener) opError(op string, err error) error {
	return &net.OpError{Op: op, Net: "pipe", Addr: l.Addr(), Err: err}
}
