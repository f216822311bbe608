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
	task := graceful.ServeHTTP(f.g.Sub(waitgroup.GroupName("requests")), &http.Server{Handler: h}, f.ln, timeout)
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

// A request that outlasts the stage timeout is cut off by Close, the task
// says so, naming the request, and the handler, which still runs, keeps
// the group's Wait from returning and is named by it until it returns.
func TestServeHTTPStageTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
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
		if !errors.Is(err, waitgroup.ErrStageTimeout) || !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, graceful.ErrTimeout) {
			t.Errorf("ServeHTTP = %v, want ErrStageTimeout and DeadlineExceeded, not the service's ErrTimeout", err)
		}
		if !strings.Contains(err.Error(), "connections still busy after 2s were closed, with 1 requests still running") {
			t.Errorf("ServeHTTP = %v, want it to say connections were closed", err)
		}
		var we *waitgroup.WaitError
		if !errors.As(err, &we) || we.Total != 1 || we.Pending[0].Name != "GET /" || we.Pending[0].Group != "requests" {
			t.Errorf("ServeHTTP = %v, want the request named", err)
		}
		if got := <-inflight; !strings.HasPrefix(got, "error: ") {
			t.Errorf("request in flight got %q, want an error", got)
		}

		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		err = f.g.Wait(ctx)
		if !errors.As(err, &we) || we.Total != 1 || we.Pending[0].Name != "GET /" ||
			!strings.Contains(err.Error(), `"GET /" (Add at graceful/http.go:`) || !strings.Contains(err.Error(), `) in group "requests", pending 5s`) {
			t.Errorf("group Wait while the handler runs = %v, want it to give up naming the request", err)
		}
		close(release)
		if err := f.g.Wait(context.Background()); !errors.Is(err, waitgroup.ErrStageTimeout) {
			t.Errorf("group Wait = %v, want the task's error", err)
		}
	})
}

// Requests are tracked as tasks of the requests group, named by method and
// path, for as long as their handler runs, panics included.
func TestServeHTTPTracksRequests(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		f := newHTTPFixture(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.HasSuffix(r.URL.Path, "/panic") {
				panic(http.ErrAbortHandler)
			}
			<-release
		}), time.Second)
		out := f.get()
		synctest.Wait()
		if p := f.g.Pending(); len(p) != 2 || p[1].Name != "GET /" || p[1].Group != "requests" {
			t.Errorf("Pending = %v, want the server and GET /", p)
		}
		close(release)
		<-out
		resp, err := f.client.Get("http://mem/" + strings.Repeat("x", 200) + "/panic")
		if err == nil {
			resp.Body.Close()
			t.Error("a request whose handler aborted got an answer")
		}
		synctest.Wait()
		if p := f.g.Pending(); len(p) != 1 || p[0].Name != "http" {
			t.Errorf("Pending = %v, want only the server once the handlers returned", p)
		}
		f.g.Cancel(nil)
		if err := <-f.served; err != nil {
			t.Errorf("ServeHTTP = %v", err)
		}
		f.g.Wait(context.Background())
		f.client.CloseIdleConnections()
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
	g := waitgroup.New()
	err := graceful.ServeHTTP(g.Sub(), &http.Server{}, ln, time.Second)(context.Background())
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
// task returns at once, and shuts the server down in a task of the requests
// group, so that no kept-alive connection is served after the group's Wait
// is over.
func TestServeHTTPServeFailsStopsServer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		f := newHTTPFixture(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/slow" {
				<-release
			}
			io.WriteString(w, "hi")
		}), 10*time.Second)
		if got := <-f.get(); got != "200 OK hi" {
			t.Fatalf("first request: %q", got)
		}
		slow := make(chan string, 1)
		go func() {
			resp, err := f.client.Get("http://mem/slow")
			if err != nil {
				slow <- err.Error()
				return
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			slow <- string(body)
		}()
		synctest.Wait()
		begin := time.Now()
		f.ln.Close() // by someone else: Serve fails
		if err := <-f.served; !errors.Is(err, net.ErrClosed) || !strings.Contains(err.Error(), "serving HTTP on mem") {
			t.Fatalf("ServeHTTP = %v, want the Serve error", err)
		}
		if d := time.Since(begin); d != 0 {
			t.Errorf("the task returned %v after Serve failed, want at once", d)
		}
		time.Sleep(time.Second)
		close(release)
		if got := <-slow; got != "hi" {
			t.Errorf("request in flight when Serve failed got %q, want it answered", got)
		}
		if err := f.g.Wait(context.Background()); !errors.Is(err, net.ErrClosed) {
			t.Errorf("Wait = %v, want the Serve error only", err)
		}
		// http.Server.Shutdown polls for idle connections, at intervals
		// that grow from 1ms to 500ms: it sees the end a little late.
		if d := time.Since(begin); d < time.Second || d >= 2*time.Second {
			t.Errorf("the group was done %v after Serve failed, want when the slow request ended, after 1s", d)
		}
		if got := <-f.get(); !strings.HasPrefix(got, "error: ") {
			t.Fatalf("request after the shutdown: %q, want an error", got)
		}
	})
}
