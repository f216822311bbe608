package graceful_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gowaitgroup/waitgroup"
	"github.com/gowaitgroup/waitgroup/graceful"
)

// httpFixture serves one handler on an in-memory listener.
type httpFixture struct {
	ln     *memListener
	client *http.Client
	g      *waitgroup.Group
	served chan error // the ServeHTTP task's result
}

func newHTTPFixture(h http.Handler, timeout time.Duration) *httpFixture {
	f := &httpFixture{ln: newMemListener(), g: waitgroup.New(), served: make(chan error, 1)}
	f.client = &http.Client{Transport: &http.Transport{DialContext: f.ln.Dial}}
	task := graceful.ServeHTTP(&http.Server{Handler: h}, f.ln, timeout)
	f.g.Go(func(ctx context.Context) error {
		err := task(ctx)
		f.served <- err
		return err
	}, waitgroup.Name("http"))
	return f
}

// get starts a request and returns the channel of its outcome.
func (f *httpFixture) get() <-chan string {
	out := make(chan string, 1)
	go func() {
		resp, err := f.client.Get("http://mem/")
		if err != nil {
			out <- "error: " + err.Error()
			return
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			out <- "error: " + err.Error()
			return
		}
		out <- resp.Status + " " + string(body)
	}()
	return out
}

// Shutdown lets the request in flight finish, refuses new connections, and
// the task returns nil.
func TestServeHTTPDrains(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		var entered atomic.Int32
		f := newHTTPFixture(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			entered.Add(1)
			<-release
			io.WriteString(w, "done")
		}), 10*time.Second)

		inflight := f.get()
		synctest.Wait()
		if entered.Load() != 1 {
			t.Fatal("request did not reach the handler")
		}
		f.g.Cancel(nil)
		synctest.Wait()
		select {
		case err := <-f.served:
			t.Fatalf("task returned %v with a request in flight", err)
		default:
		}
		if got := <-f.get(); !strings.Contains(got, errRefused.Error()) {
			t.Errorf("new request during shutdown: %q, want refused", got)
		}

		time.Sleep(5 * time.Second) // well within the stage timeout
		close(release)
		if got := <-inflight; got != "200 OK done" {
			t.Errorf("request in flight got %q, want 200 OK done", got)
		}
		if err := <-f.served; err != nil {
			t.Errorf("ServeHTTP = %v, want nil after a clean shutdown", err)
		}
		if err := f.g.Wait(context.Background()); err != nil {
			t.Errorf("Wait = %v", err)
		}
		f.client.CloseIdleConnections()
	})
}

// A request that outlasts the stage timeout is cut off by Close, and the
// task says so.
func TestServeHTTPStageTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		defer close(release)
		f := newHTTPFixture(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			<-release // ignores everything
		}), 2*time.Second)
		inflight := f.get()
		synctest.Wait()
		begin := time.Now()
		f.g.Cancel(nil)
		err := <-f.served
		if d := time.Since(begin); d != 2*time.Second {
			t.Errorf("task returned after %v, want the 2s stage timeout", d)
		}
		if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "connections closed") {
			t.Errorf("ServeHTTP = %v, want a DeadlineExceeded saying connections were closed", err)
		}
		if got := <-inflight; !strings.HasPrefix(got, "error: ") {
			t.Errorf("request in flight got %q, want an error", got)
		}
		if err := f.g.Wait(context.Background()); err == nil {
			t.Error("group Wait = nil, want the task's error")
		}
	})
}

// failingListener fails every Accept with err.
type failingListener struct {
	*memListener
	err error
}

func (l *failingListener) Accept() (net.Conn, error) { return nil, l.err }

// If serving fails by itself, the task returns the failure without waiting
// for its context.
func TestServeHTTPServeFails(t *testing.T) {
	errAccept := errors.New("accept exploded")
	ln := &failingListener{memListener: newMemListener(), err: errAccept}
	err := graceful.ServeHTTP(&http.Server{}, ln, time.Second)(context.Background())
	if !errors.Is(err, errAccept) || !strings.Contains(err.Error(), "serving HTTP on mem") {
		t.Errorf("ServeHTTP = %v, want the Accept error with the address", err)
	}
}

// A connection that has sent no request yet (a preconnect, a health probe)
// is not a request in flight: the shutdown closes it at once instead of
// letting http.Server.Shutdown wait up to 5s for it and miss the stage.
func TestServeHTTPClosesSilentConnections(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newHTTPFixture(http.NotFoundHandler(), 2*time.Second)
		silent, err := f.ln.Dial(context.Background(), "", "")
		if err != nil {
			t.Fatal(err)
		}
		defer silent.Close()
		synctest.Wait() // accepted, in StateNew
		f.g.Cancel(nil)
		if err := <-f.served; err != nil {
			t.Fatalf("ServeHTTP = %v; want nil: no request was in flight", err)
		}
		if _, err := silent.Read(make([]byte, 1)); err == nil {
			t.Fatal("the silent connection is still open")
		}
		f.g.Wait(context.Background())
	})
}

// If serving fails by itself (the listener closed by someone else), the
// task still shuts the server down before returning, so that no kept-alive
// connection is served after the task, and Run's Wait, are over.
func TestServeHTTPServeFailsStopsServer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newHTTPFixture(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, "hi")
		}), time.Second)
		if got := <-f.get(); got != "200 OK hi" {
			t.Fatalf("first request: %q", got)
		}
		f.ln.Close() // by someone else: Serve fails
		if err := <-f.served; !errors.Is(err, net.ErrClosed) {
			t.Fatalf("ServeHTTP = %v, want the Serve error", err)
		}
		if got := <-f.get(); !strings.HasPrefix(got, "error: ") {
			t.Fatalf("request after the task returned: %q, want an error", got)
		}
		f.g.Wait(context.Background())
	})
}
