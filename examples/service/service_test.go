package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gowaitgroup/waitgroup"
	"github.com/gowaitgroup/waitgroup/waitgrouptest"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// pipeListener is an in-memory net.Listener whose connections are net.Pipe
// pairs. Created inside a synctest bubble, everything blocks durably, so
// the tests run on the bubble's fake clock: deadlines are exact and instant.
type pipeListener struct {
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
}

var errRefused = errors.New("connection refused")

func newPipeListener() *pipeListener {
	return &pipeListener{conns: make(chan net.Conn), done: make(chan struct{})}
}

func (l *pipeListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *pipeListener) Close() error {
	err := net.ErrClosed
	l.once.Do(func() { close(l.done); err = nil })
	return err
}

func (l *pipeListener) Addr() net.Addr { return pipeAddr{} }

// Dial connects to the listener, or fails like a closed port.
func (l *pipeListener) Dial() (net.Conn, error) {
	select {
	case <-l.done:
		return nil, errRefused
	default:
	}
	server, client := net.Pipe()
	select {
	case l.conns <- server:
		return client, nil
	case <-l.done:
		return nil, errRefused
	}
}

type pipeAddr struct{}

func (pipeAddr) Network() string { return "pipe" }
func (pipeAddr) String() string  { return "pipe" }

// client is one connection to the service, from the client's side.
type client struct {
	net.Conn
	r *bufio.Reader
}

func dial(t *testing.T, l *pipeListener) *client {
	t.Helper()
	c, err := l.Dial()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &client{Conn: c, r: bufio.NewReader(c)}
}

func (c *client) send(t *testing.T, line string) {
	t.Helper()
	if _, err := io.WriteString(c, line+"\n"); err != nil {
		t.Fatalf("send %q: %v", line, err)
	}
}

func (c *client) recv() (string, error) {
	s, err := c.r.ReadString('\n')
	return strings.TrimSuffix(s, "\n"), err
}

// slowHandle answers "slow X" with "done X" after a second, and echoes the
// rest.
func slowHandle(line string) string {
	if job, ok := strings.CutPrefix(line, "slow "); ok {
		time.Sleep(time.Second)
		return "done " + job
	}
	return line
}

// TestEchoThenClose runs the service under waitgrouptest: clients are
// echoed, and Close leaves no pending task and no goroutine behind.
func TestEchoThenClose(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newPipeListener()
		svc := &Service{}
		s := waitgrouptest.Start(t, func() error { return svc.Start(l) }, svc.Close, waitgrouptest.Timeout(time.Second))
		var clients []*client
		for range 3 {
			c := dial(t, l)
			for _, msg := range []string{"hello", "world"} {
				c.send(t, msg)
				if got, err := c.recv(); got != msg || err != nil {
					t.Fatalf("recv = %q, %v; want %q", got, err, msg)
				}
			}
			clients = append(clients, c)
		}
		s.Stop()
		waitgrouptest.CheckIdle(t, svc.g)
		for i, c := range clients {
			if _, err := c.recv(); err != io.EOF {
				t.Errorf("client %d: after Close, recv error %v, want EOF", i, err)
			}
		}
	})
}

// TestCloseOrder proves the order of Close: the listener is closed before
// the drain begins (a connection attempted during the drain is refused),
// idle connections are closed at once, a request being served is finished
// and answered, and Close returns as soon as it is, not at the deadline.
func TestCloseOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newPipeListener()
		svc := &Service{Handle: slowHandle, DrainTimeout: 5 * time.Second}
		if err := svc.Start(l); err != nil {
			t.Fatal(err)
		}
		idle := dial(t, l)
		idle.send(t, "ping")
		if got, _ := idle.recv(); got != "ping" {
			t.Fatalf("echo = %q", got)
		}
		busy := dial(t, l)
		busy.send(t, "slow job")
		synctest.Wait() // the server is in the slow request

		begin := time.Now()
		closed := make(chan error)
		go func() { closed <- svc.Close() }()
		synctest.Wait() // Close has done all it can before the request ends

		if c, err := l.Dial(); err == nil {
			c.Close()
			t.Fatal("a connection was accepted while draining: the listener must be closed first")
		}
		if _, err := idle.recv(); err != io.EOF {
			t.Errorf("idle connection during drain: recv error %v, want EOF", err)
		}
		select {
		case err := <-closed:
			t.Fatalf("Close returned (%v) before the in-flight request was answered", err)
		default:
		}
		if got, err := busy.recv(); got != "done job" || err != nil {
			t.Fatalf("in-flight request: got %q, %v; want %q", got, err, "done job")
		}
		if err := <-closed; err != nil {
			t.Fatalf("Close = %v", err)
		}
		if took := time.Since(begin); took != time.Second {
			t.Errorf("Close took %v, want 1s: the time the request needed, no more", took)
		}
		waitgrouptest.CheckIdle(t, svc.g)
	})
}

// TestCloseForcesStuckConnection proves that a connection that does not
// finish by the drain deadline is closed then, that Close says which one,
// and that it still waits for the connection's task.
func TestCloseForcesStuckConnection(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newPipeListener()
		svc := &Service{DrainTimeout: 2 * time.Second}
		if err := svc.Start(l); err != nil {
			t.Fatal(err)
		}
		// The client sends a line and never reads: on a net.Pipe the
		// server's reply blocks until the connection is closed.
		stuck := dial(t, l)
		stuck.send(t, "are you there?")
		fine := dial(t, l)

		begin := time.Now()
		err := svc.Close()
		if took := time.Since(begin); took != 2*time.Second {
			t.Errorf("Close took %v, want the drain deadline, 2s", took)
		}
		if !errors.Is(err, errForced) {
			t.Fatalf("Close = %v, want an error matching errForced", err)
		}
		msg := err.Error()
		if !strings.Contains(msg, "1 still open") || !strings.Contains(msg, `"conn 1 from pipe" (`) || !strings.Contains(msg, `in group "conns", pending 2s`) {
			t.Errorf("Close's error does not name the stuck connection:\n%s", msg)
		}
		if strings.Contains(msg, "conn 2") {
			t.Errorf("Close's error names the idle connection, which drained:\n%s", msg)
		}
		if _, err := fine.recv(); err != io.EOF {
			t.Errorf("idle connection: recv error %v, want EOF", err)
		}
		waitgrouptest.CheckIdle(t, svc.g)
	})
}

// TestHandlerPanic proves that a panicking request handler ends only its
// connection, and that Close reports the panic with its stack.
func TestHandlerPanic(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newPipeListener()
		svc := &Service{Handle: func(line string) string {
			if line == "boom" {
				panic("handler bug")
			}
			return line
		}}
		if err := svc.Start(l); err != nil {
			t.Fatal(err)
		}
		bad, good := dial(t, l), dial(t, l)
		bad.send(t, "boom")
		if _, err := bad.recv(); err != io.EOF {
			t.Errorf("panicking connection: recv error %v, want EOF", err)
		}
		good.send(t, "still here")
		if got, err := good.recv(); got != "still here" || err != nil {
			t.Errorf("other connection: got %q, %v", got, err)
		}
		err := svc.Close()
		var pe *waitgroup.PanicError
		if !errors.As(err, &pe) || pe.Value != "handler bug" || !bytes.Contains(pe.Stack, []byte("TestHandlerPanic")) {
			t.Fatalf("Close = %v, want the handler's panic with its stack", err)
		}
	})
}

// TestWait proves that Wait lasts as long as the service: before Close it
// gives up naming the listener and the accept loop; once Close has
// returned it returns nil.
func TestWait(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newPipeListener()
		svc := &Service{}
		if err := svc.Start(l); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		err := svc.Wait(ctx)
		var we *waitgroup.WaitError
		if !errors.As(err, &we) || we.Total != 2 || we.Pending[0].Name != "listener pipe" || we.Pending[1].Name != "accept loop" {
			t.Fatalf("Wait before Close = %v, want it to give up naming the listener and the accept loop", err)
		}
		if err := svc.Close(); err != nil {
			t.Fatal(err)
		}
		if err := svc.Wait(t.Context()); err != nil {
			t.Fatalf("Wait after Close = %v", err)
		}
	})
}

func TestMisuse(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		svc := &Service{}
		if err := svc.Close(); err == nil {
			t.Error("Close before Start succeeded")
		}
		l := newPipeListener()
		if err := svc.Start(l); err != nil {
			t.Fatal(err)
		}
		if err := svc.Start(l); err == nil {
			t.Error("second Start succeeded")
		}
		if err := svc.Close(); err != nil {
			t.Fatal(err)
		}
		if err := svc.Close(); !errors.Is(err, waitgroup.ErrUnknownID) || !errors.Is(err, net.ErrClosed) {
			t.Errorf("second Close = %v, want the listener's and the ID's errors", err)
		}
	})
}

// TestDemo runs the command's demo over real TCP and checks its summary.
func TestDemo(t *testing.T) {
	var out bytes.Buffer
	if err := run(&out); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	for _, want := range []string{
		"3 clients echoed 9 lines\n",
		"request in flight during Close answered: \"done job-42\"\n",
		"idle connections closed by the drain: 3 of 3\n",
		"connection after Close refused: true\n",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, out.String())
		}
	}
}
