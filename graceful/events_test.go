package graceful_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gowaitgroup/waitgroup"
	"github.com/gowaitgroup/waitgroup/graceful"
)

// syncBuffer is a log destination that tasks write to concurrently.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) lines() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Split(strings.TrimSpace(s.b.String()), "\n")
}

func timelessLogger(w *syncBuffer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		},
	}))
}

// With a Logger, Run logs the failures of its group's tasks and Subs, and
// the restarts of a supervised task, when they happen, long before any
// shutdown; the failure that stops the service is logged once.
func TestRunLogsEventsWhenTheyHappen(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var logs syncBuffer
		fail := make(chan struct{})
		result := make(chan error, 1)
		go func() {
			result <- graceful.Run(t.Context(), func(g *waitgroup.Group) error {
				tries := 0
				g.Go(func(ctx context.Context) error {
					tries++
					if tries < 3 {
						return fmt.Errorf("refused %d", tries)
					}
					<-ctx.Done()
					return ctx.Err()
				}, waitgroup.Name("consumer"), waitgroup.Restart(waitgroup.RestartPolicy{Initial: time.Second, Jitter: -1}))
				conns := g.Sub(waitgroup.GroupName("conns"))
				conns.Go(func(context.Context) error {
					time.Sleep(10 * time.Second)
					return errors.New("bad request")
				}, waitgroup.Name("conn 1"))
				g.Go(func(ctx context.Context) error {
					select {
					case <-fail:
						return errBoom
					case <-ctx.Done():
						return nil
					}
				}, waitgroup.Name("writer"))
				return nil
			}, graceful.Signals(make(chan os.Signal)), graceful.Logger(timelessLogger(&logs)))
		}()
		time.Sleep(time.Minute)
		synctest.Wait()
		running := []string{
			`level=ERROR msg="graceful: task failed" task=consumer group=main attempt=1 restart_in=1s err="refused 1"`,
			`level=INFO msg="graceful: task restarted" task=consumer group=main attempt=1 after="refused 1"`,
			`level=ERROR msg="graceful: task failed" task=consumer group=main attempt=2 restart_in=2s err="refused 2"`,
			`level=INFO msg="graceful: task restarted" task=consumer group=main attempt=2 after="refused 2"`,
			`level=ERROR msg="graceful: task failed" task="conn 1" group=conns err="bad request"`,
		}
		if got := logs.lines(); strings.Join(got, "\n") != strings.Join(running, "\n") {
			t.Fatalf("logs while running:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(running, "\n"))
		}
		select {
		case err := <-result:
			t.Fatalf("Run returned %v while the service runs", err)
		default:
		}

		close(fail)
		err := <-result
		if !errors.Is(err, errBoom) {
			t.Fatalf("Run = %v, want the writer's error", err)
		}
		// The event comes from the writer's goroutine once its error has
		// cancelled the group, so Run may log the shutdown first.
		got := strings.Join(logs.lines()[len(running):], "\n")
		for _, want := range []string{
			`level=ERROR msg="graceful: task failed" task=writer group=main err=boom`,
			`level=INFO msg="graceful: shutdown started" reason="task failed" cause="graceful: shutting down: a task failed: boom" timeout=25s`,
		} {
			if n := strings.Count(got, want); n != 1 {
				t.Errorf("%d lines %s in the logs of the failure, want 1:\n%s", n, want, got)
			}
		}
		if n := strings.Count(got, "boom"); n != 3 {
			t.Errorf("the failure appears %d times in the logs, want 3 (failure, shutdown, outcome):\n%s", n, got)
		}
	})
}

// A task of Run's group that gives up takes the service down, and the
// give-up is logged.
func TestRunLogsGiveUp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var logs syncBuffer
		err := graceful.Run(t.Context(), func(g *waitgroup.Group) error {
			g.Go(func(ctx context.Context) error { return errBoom }, waitgroup.Name("consumer"),
				waitgroup.Restart(waitgroup.RestartPolicy{Initial: time.Second, Jitter: -1, MaxFailures: 2}))
			return nil
		}, graceful.Signals(make(chan os.Signal)), graceful.Logger(timelessLogger(&logs)))
		if !errors.Is(err, errBoom) {
			t.Fatalf("Run = %v", err)
		}
		if s := strings.Join(logs.lines(), "\n"); !strings.Contains(s, `level=ERROR msg="graceful: task gave up" task=consumer group=main attempt=2 err=boom`) {
			t.Errorf("logs:\n%s", s)
		}
	})
}
