package waitgrouptest_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gowaitgroup/waitgroup"
	"github.com/gowaitgroup/waitgroup/waitgrouptest"
)

var _ net.Listener = (*waitgrouptest.Listener)(nil)

// TestListenerInBubble serves HTTP on a Listener inside a synctest bubble:
// the bubble's clock runs while the server waits in Accept and in reads, so
// a handler that sleeps ten fake seconds answers after exactly ten, at once
// in real time, and the server shuts down cleanly. With a real listener the
// first Sleep would never return.
func TestListenerInBubble(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := waitgrouptest.NewListener()
		srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			time.Sleep(10 * time.Second)
			fmt.Fprint(w, "slept")
		})}
		g := waitgroup.New(waitgroup.GroupName("svc"))
		g.Go(func(context.Context) error {
			if err := srv.Serve(l); !errors.Is(err, http.ErrServerClosed) {
				return err
			}
			return nil
		}, waitgroup.Name("http"))

		tr := &http.Transport{DialContext: l.DialContext}
		defer tr.CloseIdleConnections()
		begin := time.Now()
		resp, err := (&http.Client{Transport: tr}).Get("http://service.test/")
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || string(body) != "slept" {
			t.Fatalf("body %q, %v", body, err)
		}
		if took := time.Since(begin); took != 10*time.Second {
			t.Errorf("the request took %v of the bubble's time, want 10s", took)
		}
		tr.CloseIdleConnections()
		if err := srv.Shutdown(context.Background()); err != nil {
			t.Fatal(err)
		}
		waitgrouptest.Wait(t, g, time.Second)
	})
}

// TestListenerConn proves that a dialled connection carries data both
// ways and that its deadlines run on the bubble's clock.
func TestListenerConn(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := waitgrouptest.NewListener()
		defer l.Close()
		g := waitgroup.New()
		g.Go(func(context.Context) error {
			c, err := l.Accept()
			if err != nil {
				return err
			}
			defer c.Close()
			line, err := bufio.NewReader(c).ReadString('\n')
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(c, "echo %s", line)
			return err
		})
		c, err := l.Dial()
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if _, err := fmt.Fprint(c, "hello\n"); err != nil {
			t.Fatal(err)
		}
		got, err := bufio.NewReader(c).ReadString('\n')
		if err != nil || got != "echo hello\n" {
			t.Fatalf("read %q, %v", got, err)
		}
		waitgrouptest.Wait(t, g, time.Second)

		// The server has closed its end: the client reads EOF.
		if _, err := c.Read(make([]byte, 1)); err != io.EOF {
			t.Errorf("read after the server closed: %v, want EOF", err)
		}
		if got := l.Addr().Network() + " " + l.Addr().String(); got != "pipe waitgrouptest.Listener" {
			t.Errorf("Addr: %s", got)
		}
	})
}

func TestListenerDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := waitgrouptest.NewListener()
		defer l.Close()
		accepted := make(chan net.Conn, 1)
		go func() {
			c, _ := l.Accept()
			accepted <- c
		}()
		c, err := l.Dial()
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		s := <-accepted
		defer s.Close()
		begin := time.Now()
		c.SetReadDeadline(begin.Add(5 * time.Second))
		if _, err := c.Read(make([]byte, 1)); !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("read: %v, want a deadline error", err)
		}
		if took := time.Since(begin); took != 5*time.Second {
			t.Errorf("the deadline passed after %v, want 5s", took)
		}
	})
}

// TestListenerClose proves that Close ends blocked and later Accepts and
// Dials with errors that match net.ErrClosed, and that only the first
// Close succeeds.
func TestListenerClose(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := waitgrouptest.NewListener()
		acceptErr, dialErr := make(chan error, 1), make(chan error, 1)
		go func() {
			_, err := l.Accept()
			acceptErr <- err
		}()
		synctest.Wait() // Accept is blocked
		if err := l.Close(); err != nil {
			t.Fatalf("first Close: %v", err)
		}
		go func() {
			_, err := l.Dial()
			dialErr <- err
		}()
		tests := []struct {
			name string
			err  error
			msg  string
		}{
			{"blocked Accept", <-acceptErr, "accept pipe waitgrouptest.Listener: use of closed network connection"},
			{"Dial after Close", <-dialErr, "dial pipe waitgrouptest.Listener: use of closed network connection"},
			{"Accept after Close", func() error { _, err := l.Accept(); return err }(), "accept pipe waitgrouptest.Listener: use of closed network connection"},
			{"second Close", l.Close(), "close pipe waitgrouptest.Listener: use of closed network connection"},
		}
		for _, tt := range tests {
			if !errors.Is(tt.err, net.ErrClosed) || tt.err.Error() != tt.msg {
				t.Errorf("%s: %v, want %q matching net.ErrClosed", tt.name, tt.err, tt.msg)
			}
		}
	})
}

// TestListenerDialCancelled proves that a Dial nobody accepts ends with its
// context, and that a Dial blocked when Close comes ends too.
func TestListenerDialCancelled(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := waitgrouptest.NewListener()
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		c, err := l.DialContext(ctx, "tcp", "ignored:80")
		if c != nil || !errors.Is(err, context.DeadlineExceeded) || err.Error() != "dial pipe waitgrouptest.Listener: context deadline exceeded" {
			t.Errorf("DialContext past its deadline: %v, %v", c, err)
		}
		if _, err := l.DialContext(ctx, "", ""); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("DialContext with a done context: %v", err)
		}

		dialErr := make(chan error, 1)
		go func() {
			_, err := l.Dial()
			dialErr <- err
		}()
		synctest.Wait() // Dial is blocked
		l.Close()
		if err := <-dialErr; !errors.Is(err, net.ErrClosed) {
			t.Errorf("Dial blocked when Close came: %v", err)
		}
	})
}
