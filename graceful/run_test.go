package graceful_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
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

var errBoom = errors.New("boom")

// polite returns a task that stops when told, recording the cause.
func polite(cause *atomic.Value) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		<-ctx.Done()
		cause.Store(context.Cause(ctx))
		return ctx.Err() // an echo of the shutdown, not a failure
	}
}

func TestRunTasksEndByThemselves(t *testing.T) {
	tests := []struct {
		name  string
		tasks []func(context.Context) error
		want  error
	}{
		{"no tasks", nil, nil},
		{"all succeed", []func(context.Context) error{
			func(context.Context) error { return nil },
			func(context.Context) error { return nil },
		}, nil},
		{"one fails", []func(context.Context) error{
			func(context.Context) error { return errBoom },
		}, errBoom},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var ready graceful.Readiness
				err := graceful.Run(t.Context(), func(g *waitgroup.Group) error {
					for _, f := range tt.tasks {
						g.Go(f)
					}
					return nil
				}, graceful.Signals(make(chan os.Signal)), graceful.WithReadiness(&ready))
				if !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
					t.Fatalf("Run = %v, want %v", err, tt.want)
				}
			})
		})
	}
}

// A failing task cancels its siblings with its error as the cause, and Run
// waits for them and returns the error.
func TestRunTaskFailureStopsService(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var cause atomic.Value
		var ready graceful.Readiness
		err := graceful.Run(t.Context(), func(g *waitgroup.Group) error {
			g.Go(polite(&cause), waitgroup.Name("worker"))
			g.Go(func(context.Context) error {
				time.Sleep(time.Second)
				return errBoom
			}, waitgroup.Name("failing"))
			return nil
		}, graceful.Signals(make(chan os.Signal)), graceful.WithReadiness(&ready),
			graceful.DrainDelay(time.Hour), graceful.ShutdownTimeout(2*time.Hour)) // must not apply: the tasks are already cancelled
		if !errors.Is(err, errBoom) {
			t.Fatalf("Run = %v, want %v", err, errBoom)
		}
		if c, _ := cause.Load().(error); !errors.Is(c, errBoom) {
			t.Errorf("worker's cause = %v, want %v", c, errBoom)
		}
		if !ready.Draining() {
			t.Error("readiness not draining after a task failed")
		}
	})
}

// The stages of a signalled shutdown happen in order and at the right
// times: draining at once, cancellation after the drain delay, then return.
func TestRunShutdownStages(t *testing.T) {
	triggers := []struct {
		name   string
		signal func(chan<- os.Signal, context.CancelFunc)
		cause  string
		reason string
	}{
		{"SIGTERM", func(c chan<- os.Signal, _ context.CancelFunc) { c <- syscall.SIGTERM }, "received terminated", "signal terminated"},
		{"SIGINT", func(c chan<- os.Signal, _ context.CancelFunc) { c <- os.Interrupt }, "received interrupt", "signal interrupt"},
		{"context", func(_ chan<- os.Signal, cancel context.CancelFunc) { cancel() }, "context canceled", "context done"},
	}
	for _, tr := range triggers {
		t.Run(tr.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var logs bytes.Buffer
				logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{
					ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
						if a.Key == slog.TimeKey {
							return slog.Attr{}
						}
						return a
					},
				}))
				var ready graceful.Readiness
				var cause atomic.Value
				ctx, cancel := context.WithCancel(t.Context())
				defer cancel()
				sigs := make(chan os.Signal, 1)
				result := make(chan error, 1)
				go func() {
					result <- graceful.Run(ctx, func(g *waitgroup.Group) error {
						g.Go(polite(&cause), waitgroup.Name("worker"))
						return nil
					}, graceful.Signals(sigs), graceful.WithReadiness(&ready),
						graceful.DrainDelay(2*time.Second), graceful.ShutdownTimeout(10*time.Second),
						graceful.Logger(logger))
				}()
				synctest.Wait()
				if ready.Draining() || logs.Len() != 0 {
					t.Fatalf("before the signal: draining %v, logs %q", ready.Draining(), logs.String())
				}

				begin := time.Now()
				tr.signal(sigs, cancel)
				synctest.Wait()
				if !ready.Draining() {
					t.Fatal("not draining right after the signal")
				}
				if cause.Load() != nil {
					t.Fatal("tasks cancelled before the drain delay")
				}
				time.Sleep(2*time.Second - time.Nanosecond)
				synctest.Wait()
				if cause.Load() != nil {
					t.Fatal("tasks cancelled before the drain delay ended")
				}
				time.Sleep(time.Nanosecond)
				synctest.Wait()
				c, _ := cause.Load().(error)
				if !errors.Is(c, graceful.ErrShutdown) || !strings.Contains(c.Error(), tr.cause) {
					t.Fatalf("cause = %v, want ErrShutdown with %q", c, tr.cause)
				}
				select {
				case err := <-result:
					if err != nil {
						t.Fatalf("Run = %v, want nil", err)
					}
				default:
					t.Fatal("Run did not return once its tasks ended")
				}
				if d := time.Since(begin); d != 2*time.Second {
					t.Errorf("shutdown took %v, want 2s", d)
				}
				wantLogs := []string{
					`msg="graceful: shutdown started" reason="` + tr.reason + `" timeout=10s`,
					`msg="graceful: draining" delay=2s`,
					`msg="graceful: cancelling tasks" pending=1`,
					`msg="graceful: shutdown complete" took=2s`,
				}
				got := strings.Split(strings.TrimSpace(logs.String()), "\n")
				if len(got) != len(wantLogs) {
					t.Fatalf("logs:\n%s\nwant %d lines", logs.String(), len(wantLogs))
				}
				for i, w := range wantLogs {
					if !strings.Contains(got[i], w) {
						t.Errorf("log line %d = %q, want it to contain %q", i, got[i], w)
					}
				}
			})
		})
	}
}

// A task that ignores its context makes Run return at the deadline, with an
// error that names it, and without waiting for it.
func TestRunDeadlineNamesStuckTask(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		defer close(release)
		var cause atomic.Value
		sigs := make(chan os.Signal, 1)
		sigs <- syscall.SIGTERM
		begin := time.Now()
		err := graceful.Run(t.Context(), func(g *waitgroup.Group) error {
			g.Go(polite(&cause), waitgroup.Name("polite"))
			g.Go(func(context.Context) error { <-release; return nil }, waitgroup.Name("stuck"))
			return nil
		}, graceful.Signals(sigs), graceful.DrainDelay(time.Second), graceful.ShutdownTimeout(5*time.Second))
		if d := time.Since(begin); d != 5*time.Second {
			t.Errorf("Run returned after %v, want the 5s deadline", d)
		}
		if !errors.Is(err, graceful.ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Run = %v, want ErrTimeout and DeadlineExceeded", err)
		}
		var we *waitgroup.WaitError
		if !errors.As(err, &we) {
			t.Fatalf("Run = %v, want a *waitgroup.WaitError inside", err)
		}
		if we.Total != 1 || len(we.Pending) != 1 || we.Pending[0].Name != "stuck" {
			t.Errorf("pending = %v (total %d), want just \"stuck\"", we.Pending, we.Total)
		}
		msg := err.Error()
		for _, want := range []string{`"stuck"`, "pending 5s", "within 5s", "signal terminated"} {
			if !strings.Contains(msg, want) {
				t.Errorf("message %q does not contain %q", msg, want)
			}
		}
		if strings.Contains(msg, `"polite"`) {
			t.Errorf("message %q names a task that ended", msg)
		}
	})
}

// A second signal ends the wait at once, at any stage, with the pending list.
func TestRunSecondSignal(t *testing.T) {
	tests := []struct {
		name  string
		drain time.Duration
		after time.Duration // from the first signal to the second
	}{
		{"during drain delay", 10 * time.Second, time.Second},
		{"during wait", 0, 3 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				release := make(chan struct{})
				defer close(release)
				var cause atomic.Value
				sigs := make(chan os.Signal, 1)
				result := make(chan error, 1)
				go func() {
					result <- graceful.Run(t.Context(), func(g *waitgroup.Group) error {
						g.Go(polite(&cause), waitgroup.Name("polite"))
						g.Go(func(context.Context) error { <-release; return nil }, waitgroup.Name("stuck"))
						return nil
					}, graceful.Signals(sigs), graceful.DrainDelay(tt.drain))
				}()
				sigs <- syscall.SIGTERM
				time.Sleep(tt.after)
				synctest.Wait()
				begin := time.Now()
				sigs <- os.Interrupt
				err := <-result
				if d := time.Since(begin); d != 0 {
					t.Errorf("Run returned %v after the second signal, want at once", d)
				}
				if !errors.Is(err, graceful.ErrInterrupted) {
					t.Errorf("Run = %v, want ErrInterrupted", err)
				}
				var we *waitgroup.WaitError
				if !errors.As(err, &we) || we.Total < 1 || !strings.Contains(err.Error(), `"stuck"`) {
					t.Errorf("Run = %v, want a WaitError naming \"stuck\"", err)
				}
				synctest.Wait()
				if cause.Load() == nil {
					t.Error("the tasks were not cancelled when Run gave up")
				}
			})
		})
	}
}

// A panicking task is reported with its stack, and the other tasks are
// still cancelled and waited for.
func TestRunPanickingTask(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var drained atomic.Bool
		err := graceful.Run(t.Context(), func(g *waitgroup.Group) error {
			g.Go(func(ctx context.Context) error {
				<-ctx.Done()
				time.Sleep(time.Second) // cleaning up takes a while
				drained.Store(true)
				return nil
			}, waitgroup.Name("worker"))
			g.Go(func(context.Context) error { panicInTask(); return nil }, waitgroup.Name("bad"))
			return nil
		}, graceful.Signals(make(chan os.Signal)))
		var pe *waitgroup.PanicError
		if !errors.As(err, &pe) {
			t.Fatalf("Run = %v, want a *waitgroup.PanicError", err)
		}
		if pe.Value != "bad things" || !strings.Contains(string(pe.Stack), "panicInTask") {
			t.Errorf("panic value %v, stack:\n%s\nwant the value and panicInTask in the stack", pe.Value, pe.Stack)
		}
		if !drained.Load() {
			t.Error("Run returned before the other task drained")
		}
	})
}

func panicInTask() { panic("bad things") }

// If start fails, what it started is stopped and waited for, and the error
// says that start failed.
func TestRunStartError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var cause atomic.Value
		err := graceful.Run(t.Context(), func(g *waitgroup.Group) error {
			g.Go(polite(&cause))
			return errBoom
		}, graceful.Signals(make(chan os.Signal)))
		if !errors.Is(err, errBoom) || !strings.Contains(err.Error(), "graceful: start: boom") {
			t.Errorf("Run = %v, want the start error", err)
		}
		if c, _ := cause.Load().(error); !errors.Is(c, errBoom) || !errors.Is(c, graceful.ErrShutdown) {
			t.Errorf("task's cause = %v, want ErrShutdown and the start error", c)
		}
	})
}

// A listener that cannot be opened fails start before anything runs, with
// the address and the system's reason in the error.
func TestRunPortInUse(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	var started atomic.Int32
	err = graceful.Run(t.Context(), func(g *waitgroup.Group) error {
		ln, err := net.Listen("tcp", busy.Addr().String())
		if err != nil {
			return err
		}
		started.Add(1)
		g.Go(func(ctx context.Context) error { <-ctx.Done(); return ln.Close() })
		return nil
	})
	if !errors.Is(err, syscall.EADDRINUSE) || !strings.Contains(err.Error(), busy.Addr().String()) {
		t.Errorf("Run = %v, want EADDRINUSE naming %v", err, busy.Addr())
	}
	if started.Load() != 0 {
		t.Error("a task was started")
	}
}

// A closed Signals channel is no signal: Run goes on until its tasks end.
func TestRunClosedSignals(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sigs := make(chan os.Signal)
		close(sigs)
		begin := time.Now()
		err := graceful.Run(t.Context(), func(g *waitgroup.Group) error {
			g.Go(func(context.Context) error { time.Sleep(time.Second); return nil })
			return nil
		}, graceful.Signals(sigs))
		if err != nil || time.Since(begin) != time.Second {
			t.Errorf("Run = %v after %v, want nil after 1s", err, time.Since(begin))
		}
	})
}

// Without a logger Run writes nothing anywhere, even while shutting down.
func TestRunSilentByDefault(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var buf bytes.Buffer
		old := slog.Default()
		slog.SetDefault(slog.New(slog.NewTextHandler(&buf, nil)))
		defer slog.SetDefault(old)
		sigs := make(chan os.Signal, 1)
		sigs <- syscall.SIGTERM
		var cause atomic.Value
		err := graceful.Run(t.Context(), func(g *waitgroup.Group) error {
			g.Go(polite(&cause))
			return nil
		}, graceful.Signals(sigs))
		if err != nil || buf.Len() != 0 {
			t.Errorf("Run = %v, default logger got %q; want nil and nothing", err, buf.String())
		}
	})
}

func TestRunBadArguments(t *testing.T) {
	tests := []struct {
		name string
		call func()
	}{
		{"nil context", func() {
			//lint:ignore SA1012 testing the nil check
			graceful.Run(nil, func(*waitgroup.Group) error { return nil })
		}},
		{"nil start", func() { graceful.Run(context.Background(), nil) }},
		{"nil option", func() {
			graceful.Run(context.Background(), func(*waitgroup.Group) error { return nil }, nil)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				if v := recover(); v == nil || !strings.HasPrefix(v.(string), "graceful: ") {
					t.Errorf("panic = %v, want a graceful: message", v)
				}
			}()
			tt.call()
		})
	}
}
