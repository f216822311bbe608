package graceful_test

import (
	"bufio"
	"context"
	"errors"
	"net"
	"os"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gowaitgroup/waitgroup"
	"github.com/gowaitgroup/waitgroup/graceful"
)

// slowEcho answers each line with "echo: line" after work, and returns
// once its context is done and no exchange is in progress: a handler as
// ServeTCP expects them.
func slowEcho(work time.Duration) func(ctx context.Context, c net.Conn) error {
	return func(ctx context.Context, c net.Conn) error {
		// A read blocked between exchanges must end when ctx does: a
		// past deadline makes it fail at once.
		stop := context.AfterFunc(ctx, func() { c.SetReadDeadline(time.Unix(1, 0)) })
		defer stop()
		r := bufio.NewReader(c)
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return nil // ctx done, or the client went away
			}
			time.Sleep(work)
			if _, err := c.Write([]byte("echo: " + line)); err != nil {
				return nil
			}
		}
	}
}

// tcpFixture runs ServeTCP under a group, as Run would.
type tcpFixture struct {
	ln     *memListener
	g      *waitgroup.Group
	served chan error
}

func newTCPFixture(handle func(context.Context, net.Conn) error, timeout time.Duration) *tcpFixture {
	f := &tcpFixture{ln: newMemListener(), g: waitgroup.New(), served: make(chan error, 1)}
	conns := f.g.Sub(waitgroup.GroupName("conns"))
	task := graceful.ServeTCP(conns, f.ln, handle, timeout)
	f.g.Go(func(ctx context.Context) error {
		err := task(ctx)
		f.served <- err
		return err
	}, waitgroup.Name("accept"))
	return f
}

func (f *tcpFixture) dial(t *testing.T) net.Conn {
	t.Helper()
	c, err := f.ln.Dial(context.Background(), "", "")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// On shutdown the listener closes first, an idle connection ends at once,
// an exchange in progress completes, and the task returns nil once all
// connections are done.
func TestServeTCPDrains(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newTCPFixture(slowEcho(time.Second), 10*time.Second)
		idle := f.dial(t)
		defer idle.Close()
		busy := f.dial(t)
		defer busy.Close()
		reply := make(chan string, 1)
		go func() {
			busy.Write([]byte("hello\n"))
			line, _ := bufio.NewReader(busy).ReadString('\n')
			reply <- line
		}()
		time.Sleep(500 * time.Millisecond) // the exchange is half done
		begin := time.Now()
		f.g.Cancel(nil)
		synctest.Wait()
		if _, err := f.ln.Dial(context.Background(), "", ""); !errors.Is(err, errRefused) {
			t.Errorf("dial during drain = %v, want refused", err)
		}
		if got := <-reply; got != "echo: hello\n" {
			t.Errorf("reply = %q, want the echo", got)
		}
		if err := <-f.served; err != nil {
			t.Errorf("ServeTCP = %v, want nil", err)
		}
		if d := time.Since(begin); d != 500*time.Millisecond {
			t.Errorf("drain took %v, want the 500ms left of the exchange", d)
		}
		if err := f.g.Wait(context.Background()); err != nil {
			t.Errorf("Wait = %v", err)
		}
	})
}

// A connection whose handler ignores the context is closed when the drain
// timeout passes; the error names it, and closing unblocks the handler.
func TestServeTCPForceCloses(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var handlerDone atomic.Bool
		f := newTCPFixture(func(ctx context.Context, c net.Conn) error {
			defer handlerDone.Store(true)
			_, err := c.Read(make([]byte, 1)) // no deadline: waits for ever
			if err == nil {
				return errors.New("read returned data nobody sent")
			}
			return nil
		}, 3*time.Second)
		c := f.dial(t)
		defer c.Close()
		synctest.Wait()
		begin := time.Now()
		f.g.Cancel(nil)
		err := <-f.served
		if d := time.Since(begin); d != 3*time.Second {
			t.Errorf("task returned after %v, want the 3s timeout", d)
		}
		if !errors.Is(err, waitgroup.ErrStageTimeout) || !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, graceful.ErrTimeout) {
			t.Errorf("ServeTCP = %v, want ErrStageTimeout, not the service's ErrTimeout", err)
		}
		var we *waitgroup.WaitError
		if !errors.As(err, &we) || we.Total != 1 || !strings.HasPrefix(we.Pending[0].Name, "conn from ") || we.Pending[0].Group != "conns" {
			t.Errorf("ServeTCP = %v, want the stuck connection named", err)
		}
		if !strings.Contains(err.Error(), "closed 1 connections") {
			t.Errorf("message %q does not say what was closed", err)
		}
		if err := f.g.Wait(context.Background()); err == nil {
			t.Error("Wait = nil, want the task's error")
		}
		if !handlerDone.Load() {
			t.Error("group Wait returned before the closed connection's handler")
		}
	})
}

// A permanent Accept error ends the task with that error.
func TestServeTCPAcceptFails(t *testing.T) {
	errAccept := errors.New("accept exploded")
	ln := &failingListener{memListener: newMemListener(), err: errAccept}
	g := waitgroup.New()
	err := graceful.ServeTCP(g.Sub(), ln, slowEcho(0), time.Second)(context.Background())
	if !errors.Is(err, errAccept) {
		t.Errorf("ServeTCP = %v, want the Accept error", err)
	}
}

// shortListener fails its first Accepts with EMFILE, as a process out of
// file descriptors sees, then works.
type shortListener struct {
	*memListener
	failures atomic.Int32
}

func (l *shortListener) Accept() (net.Conn, error) {
	if l.failures.Add(-1) >= 0 {
		return nil, &net.OpError{Op: "accept", Net: "tcp", Err: os.NewSyscallError("accept", syscall.EMFILE)}
	}
	return l.memListener.Accept()
}

// A shortage of file descriptors pauses the accept loop, with a growing
// pause, instead of ending the service.
func TestServeTCPRetriesShortage(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ln := &shortListener{memListener: newMemListener()}
		ln.failures.Store(3)
		g := waitgroup.New()
		g.Go(graceful.ServeTCP(g.Sub(), ln, slowEcho(0), time.Second))
		begin := time.Now()
		c, err := ln.Dial(context.Background(), "", "")
		if err != nil {
			t.Fatal(err)
		}
		if d := time.Since(begin); d != 35*time.Millisecond {
			t.Errorf("accepted after %v, want the 5+10+20ms of pauses", d)
		}
		c.Write([]byte("hi\n"))
		if line, _ := bufio.NewReader(c).ReadString('\n'); line != "echo: hi\n" {
			t.Errorf("reply %q", line)
		}
		c.Close()
		g.Cancel(nil)
		if err := g.Wait(context.Background()); err != nil {
			t.Errorf("Wait = %v", err)
		}
	})
}
