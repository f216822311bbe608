package graceful_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gowaitgroup/waitgroup"
	"github.com/gowaitgroup/waitgroup/graceful"
)

// events records what tasks did and when, on the bubble's clock.
type events struct {
	mu    sync.Mutex
	begin time.Time
	list  []string
}

func (e *events) add(format string, args ...any) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.list = append(e.list, fmt.Sprintf("%v %s", time.Since(e.begin), fmt.Sprintf(format, args...)))
}

func (e *events) get() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.list)
}

// Options that cannot work are refused before anything starts: start is
// not called.
func TestRunRefusesOptions(t *testing.T) {
	tests := []struct {
		name string
		opts []graceful.Option
		want string
	}{
		{"drain delay equals timeout", []graceful.Option{graceful.DrainDelay(5 * time.Second), graceful.ShutdownTimeout(5 * time.Second)},
			"the drain delay (5s) is not shorter than the shutdown timeout (5s)"},
		{"drain delay beyond default timeout", []graceful.Option{graceful.DrainDelay(time.Minute)},
			"the drain delay (1m0s) is not shorter than the shutdown timeout (25s)"},
		{"stage bound reaches timeout", []graceful.Option{graceful.DrainDelay(time.Second), graceful.StageTimeout(4 * time.Second), graceful.ShutdownTimeout(5 * time.Second)},
			"the drain delay (1s) and the first stage's bound (4s) reach the shutdown timeout (5s)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			started := false
			err := graceful.Run(t.Context(), func(*waitgroup.Group) error { started = true; return nil },
				append(tt.opts, graceful.Signals(make(chan os.Signal)))...)
			if !errors.Is(err, graceful.ErrInvalidOptions) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Run = %v, want ErrInvalidOptions saying %q", err, tt.want)
			}
			if started {
				t.Error("start was called")
			}
		})
	}
	for _, ok := range [][]graceful.Option{
		{graceful.DrainDelay(4 * time.Second), graceful.ShutdownTimeout(5 * time.Second)},
		{graceful.DrainDelay(time.Second), graceful.StageTimeout(3 * time.Second), graceful.ShutdownTimeout(5 * time.Second)},
	} {
		err := graceful.Run(t.Context(), func(*waitgroup.Group) error { return nil }, append(ok, graceful.Signals(make(chan os.Signal)))...)
		if err != nil {
			t.Errorf("Run with options that work = %v", err)
		}
	}
}

// Run's group is named "main", or by GroupName, and the name appears in
// the pending tasks.
func TestRunGroupName(t *testing.T) {
	for _, tt := range []struct {
		opts []graceful.Option
		want string
	}{{nil, "main"}, {[]graceful.Option{graceful.GroupName("intake")}, "intake"}} {
		var got []waitgroup.TaskInfo
		graceful.Run(t.Context(), func(g *waitgroup.Group) error {
			g.Add(waitgroup.Name("probe"))
			got = g.Pending()
			g.Cancel(errBoom)
			return nil
		}, append(tt.opts, graceful.Signals(make(chan os.Signal)), graceful.ShutdownTimeout(time.Millisecond))...)
		if len(got) != 1 || got[0].Group != tt.want {
			t.Errorf("pending %v, want the task in group %q", got, tt.want)
		}
	}
}

// On SIGTERM the stages stop in order: Run's group (the intake) first,
// while the flusher of the next stage still runs; then the flusher; then
// the file. Each stage is cancelled with the shutdown's cause.
func TestRunThenStagesInOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ev := &events{begin: time.Now()}
		var st waitgroup.Stages
		flush := st.Add("flush", 5*time.Second)
		files := st.Add("close", time.Second)
		sigs := make(chan os.Signal, 1)
		sigs <- syscall.SIGTERM
		err := graceful.Run(t.Context(), func(g *waitgroup.Group) error {
			g.Go(func(ctx context.Context) error {
				<-ctx.Done()
				ev.add("intake cancelled")
				time.Sleep(2 * time.Second) // requests in flight
				ev.add("intake stopped, flush cancelled: %v", flush.Context().Err() != nil)
				return nil
			})
			flush.Go(func(ctx context.Context) error {
				<-ctx.Done()
				ev.add("flush cancelled: %v", errors.Is(context.Cause(ctx), graceful.ErrShutdown))
				time.Sleep(time.Second)
				return nil
			})
			files.Go(func(ctx context.Context) error {
				<-ctx.Done()
				ev.add("file closed")
				return ctx.Err()
			})
			return nil
		}, graceful.Signals(sigs), graceful.DrainDelay(time.Second), graceful.ShutdownTimeout(10*time.Second),
			graceful.GroupName("intake"), graceful.Then(&st))
		if err != nil {
			t.Fatalf("Run = %v", err)
		}
		want := []string{
			"1s intake cancelled",
			"3s intake stopped, flush cancelled: false",
			"3s flush cancelled: true",
			"4s file closed",
		}
		if got := ev.get(); !slices.Equal(got, want) {
			t.Errorf("events:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	})
}

// A first stage that misses its StageTimeout is reported as that stage's
// error, not as Run's ErrTimeout, and the later stages still run; a later
// stage that is still running at the shutdown deadline is ErrTimeout.
func TestRunStageBounds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		defer close(release)
		ev := &events{begin: time.Now()}
		var st waitgroup.Stages
		flush := st.Add("flush", 0)
		files := st.Add("close", 0)
		sigs := make(chan os.Signal, 1)
		sigs <- syscall.SIGTERM
		err := graceful.Run(t.Context(), func(g *waitgroup.Group) error {
			g.Go(func(context.Context) error { <-release; return nil }, waitgroup.Name("stuck request"))
			flush.Go(func(ctx context.Context) error {
				<-ctx.Done()
				ev.add("flush cancelled")
				<-release
				return nil
			}, waitgroup.Name("stuck flusher"))
			files.Go(func(ctx context.Context) error { <-ctx.Done(); ev.add("file closed"); return nil })
			return nil
		}, graceful.Signals(sigs), graceful.StageTimeout(2*time.Second), graceful.ShutdownTimeout(5*time.Second),
			graceful.GroupName("intake"), graceful.Then(&st))
		var se *waitgroup.StageError
		if !errors.As(err, &se) || se.Stage != "intake" || se.Bound != 2*time.Second || !errors.Is(se, waitgroup.ErrStageTimeout) {
			t.Errorf("Run = %v, want the intake's StageError first", err)
		}
		if !errors.Is(err, graceful.ErrTimeout) {
			t.Errorf("Run = %v, want ErrTimeout for the flush stage", err)
		}
		for _, want := range []string{
			`stage "intake" did not stop within 2s`, `"stuck request" (`, `in group "intake", pending 2s`,
			`stage "flush" had not stopped when the wait ended`, `(graceful: shutdown deadline passed)`, `"stuck flusher"`,
		} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("Run = %v\nwant it to contain %q", err, want)
			}
		}
		synctest.Wait()
		if got := ev.get(); !slices.Equal(got, []string{"2s flush cancelled", "5s file closed"}) {
			t.Errorf("events %q: want the flush at the intake's bound and the file at the deadline", got)
		}
	})
}

// A task of a later stage that fails, with CancelOnError on its stage,
// starts the shutdown at once, and Run logs the failure when it happens.
func TestRunLaterStageFailure(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var logs bytes.Buffer
		var st waitgroup.Stages
		flush := st.Add("flush", time.Second, waitgroup.CancelOnError())
		ev := &events{begin: time.Now()}
		err := graceful.Run(t.Context(), func(g *waitgroup.Group) error {
			g.Go(func(ctx context.Context) error {
				<-ctx.Done()
				ev.add("intake cancelled")
				return nil
			})
			flush.Go(func(context.Context) error {
				time.Sleep(3 * time.Second)
				return errBoom
			}, waitgroup.Name("writer"))
			return nil
		}, graceful.Signals(make(chan os.Signal)), graceful.Then(&st), graceful.Logger(slog.New(slog.NewTextHandler(&logs, nil))))
		if !errors.Is(err, errBoom) {
			t.Fatalf("Run = %v, want the writer's error", err)
		}
		if got := ev.get(); !slices.Equal(got, []string{"3s intake cancelled"}) {
			t.Errorf("events %q, want the intake cancelled when the writer failed", got)
		}
		if !strings.Contains(logs.String(), `msg="graceful: task failed" err="graceful: stage \"flush\" stopped before the shutdown: boom"`) {
			t.Errorf("logs do not report the failure:\n%s", logs.String())
		}
	})
}

// A ServeTCP handler's error is a failure of the service when it happens:
// Run shuts down then, without waiting for a signal, and returns it.
func TestRunServeTCPHandlerFailure(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ln := newMemListener()
		var ev events
		ev.begin = time.Now()
		result := make(chan error, 1)
		go func() {
			result <- graceful.Run(t.Context(), func(g *waitgroup.Group) error {
				conns := g.Sub(waitgroup.GroupName("conns"))
				g.Go(graceful.ServeTCP(conns, ln, func(ctx context.Context, c net.Conn) error {
					line := make([]byte, 4)
					if _, err := io.ReadFull(c, line); err != nil {
						return nil
					}
					if string(line) == "bad\n" {
						return errBoom
					}
					<-ctx.Done()
					ev.add("other connection told to stop")
					return nil
				}, 10*time.Second), waitgroup.Name("accept"))
				return nil
			}, graceful.Signals(make(chan os.Signal)))
		}()
		good, _ := ln.Dial(t.Context(), "", "")
		defer good.Close()
		good.Write([]byte("ok!\n"))
		time.Sleep(time.Second)
		bad, _ := ln.Dial(t.Context(), "", "")
		defer bad.Close()
		bad.Write([]byte("bad\n"))
		err := <-result
		if !errors.Is(err, errBoom) || !strings.Contains(err.Error(), "graceful: TCP server on mem: connection from pipe failed: boom") {
			t.Errorf("Run = %v, want the handler's error", err)
		}
		if strings.Count(err.Error(), "boom") != 1 {
			t.Errorf("Run = %v, reports the error more than once", err)
		}
		if got := ev.get(); !slices.Equal(got, []string{"1s other connection told to stop"}) {
			t.Errorf("events %q, want the shutdown at the failure", got)
		}
	})
}

// A handler that runs past ServeHTTP's stage limit keeps Run waiting, and
// the deadline's error names it by request; if it returns before, Run
// returns then with the stage's error, which is not ErrTimeout.
func TestRunServeHTTPLateHandler(t *testing.T) {
	for _, tt := range []struct {
		name    string
		handler time.Duration
		took    time.Duration
		timeout bool
	}{{"past the deadline", time.Hour, 5 * time.Second, true}, {"before the deadline", 3 * time.Second, 3 * time.Second, false}} {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ln := newMemListener()
				client := &http.Client{Transport: &http.Transport{DialContext: ln.Dial}}
				release := make(chan struct{})
				defer close(release)
				sigs := make(chan os.Signal, 1)
				var begin time.Time
				err := graceful.Run(t.Context(), func(g *waitgroup.Group) error {
					mux := http.NewServeMux()
					mux.HandleFunc("POST /slow", func(http.ResponseWriter, *http.Request) {
						select {
						case <-time.After(tt.handler):
						case <-release:
						}
					})
					g.Go(graceful.ServeHTTP(g.Sub(waitgroup.GroupName("requests")), &http.Server{Handler: mux}, ln, time.Second))
					g.Go(func(context.Context) error {
						go func() {
							if resp, err := client.Post("http://mem/slow", "", nil); err == nil {
								resp.Body.Close()
							}
						}()
						synctest.Wait()
						begin = time.Now()
						sigs <- syscall.SIGTERM
						return nil
					})
					return nil
				}, graceful.Signals(sigs), graceful.ShutdownTimeout(5*time.Second))
				if d := time.Since(begin); d != tt.took {
					t.Errorf("Run returned after %v, want %v", d, tt.took)
				}
				if !errors.Is(err, waitgroup.ErrStageTimeout) || errors.Is(err, graceful.ErrTimeout) != tt.timeout {
					t.Errorf("Run = %v, want the HTTP stage's error, and ErrTimeout %v", err, tt.timeout)
				}
				if tt.timeout && (!strings.Contains(err.Error(), `"POST /slow" (Add at graceful/http.go:`) ||
					!strings.Contains(err.Error(), `) in group "requests", pending 5s`)) {
					t.Errorf("Run = %v, want the late request named", err)
				}
				client.CloseIdleConnections()
			})
		})
	}
}
