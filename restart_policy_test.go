package waitgroup_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gowaitgroup/waitgroup"
)

// A task gives up at its MaxFailures-th failure within the Window: its last
// error is then its result, which with CancelOnError cancels the group,
// and TaskGaveUp follows its TaskFailed. Failures spread wider than the
// Window, or broken by a healthy run, go on being restarted.
func TestRestartGiveUp(t *testing.T) {
	tests := []struct {
		name    string
		p       waitgroup.RestartPolicy
		run     time.Duration // how long each attempt runs before failing
		giveUp  bool
		attempt int // the attempt that gives up, or the last seen
	}{
		{"3 in 10s", waitgroup.RestartPolicy{Initial: time.Second, Factor: 1, Jitter: -1, MaxFailures: 3, Window: 10 * time.Second}, 0, true, 3},
		{"3 spread over 12s", waitgroup.RestartPolicy{Initial: 6 * time.Second, Factor: 1, Jitter: -1, MaxFailures: 3, Window: 10 * time.Second}, 0, false, 10},
		{"1 gives up at once", waitgroup.RestartPolicy{MaxFailures: 1, Window: time.Second}, 0, true, 1},
		{"3 in a row", waitgroup.RestartPolicy{Initial: time.Hour, Factor: 1, Max: time.Hour, Jitter: -1, MaxFailures: 3}, 0, true, 3},
		{"in a row, broken by healthy runs", waitgroup.RestartPolicy{Initial: time.Second, Factor: 1, Jitter: -1, Healthy: 5 * time.Second, MaxFailures: 2}, 5 * time.Second, false, 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var kinds []string
				var mu sync.Mutex
				g := waitgroup.New(waitgroup.CancelOnError(), waitgroup.Events(func(e waitgroup.Event) {
					mu.Lock()
					defer mu.Unlock()
					kinds = append(kinds, fmt.Sprintf("%v %d", e.Kind, e.Task.Attempt))
				}))
				s := newStarts()
				g.Go(func(ctx context.Context) error {
					k := s.add()
					if k > 10 {
						<-ctx.Done()
						return nil
					}
					time.Sleep(tt.run)
					return fmt.Errorf("fail %d", k)
				}, waitgroup.Restart(tt.p))
				time.Sleep(24 * time.Hour)
				synctest.Wait()
				mu.Lock()
				got := kinds
				mu.Unlock()
				if !tt.giveUp {
					if n := len(s.get()); n != 11 {
						t.Fatalf("%d attempts, want 11 (no give-up); events %q", n, got)
					}
					if g.Context().Err() != nil {
						t.Fatal("the group was cancelled")
					}
					g.Cancel(nil)
					if err := g.Wait(t.Context()); err != nil {
						t.Fatalf("Wait = %v", err)
					}
					return
				}
				want := fmt.Errorf("fail %d", tt.attempt)
				if err := g.Wait(t.Context()); err == nil || err.Error() != want.Error() {
					t.Fatalf("Wait = %v, want %v", err, want)
				}
				if c := context.Cause(g.Context()); c == nil || c.Error() != want.Error() {
					t.Errorf("cause = %v, want the last error", c)
				}
				if n := len(s.get()); n != tt.attempt {
					t.Errorf("%d attempts, want %d", n, tt.attempt)
				}
				if len(got) < 2 || got[len(got)-2] != fmt.Sprintf("task failed %d", tt.attempt) || got[len(got)-1] != fmt.Sprintf("task gave up %d", tt.attempt) {
					t.Errorf("events %q, want them to end with the failure and the give-up", got)
				}
			})
		})
	}
}

// A run of at least Healthy resets the backoff and the attempt count.
func TestRestartHealthyResets(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		j := newJournal()
		g := waitgroup.New(waitgroup.Events(func(e waitgroup.Event) {
			if e.Kind == waitgroup.TaskFailed {
				j.log("failed, attempt %d, next in %v", e.Task.Attempt, e.Task.NextStart.Sub(e.Time))
			}
		}))
		s := newStarts()
		g.Go(func(ctx context.Context) error {
			switch s.add() {
			case 3:
				time.Sleep(5 * time.Second) // a healthy run
			case 5:
				<-ctx.Done()
				return nil
			}
			return errors.New("boom")
		}, waitgroup.Restart(waitgroup.RestartPolicy{Initial: time.Second, Jitter: -1, Healthy: 5 * time.Second}))
		time.Sleep(time.Minute)
		want := []string{
			"0s failed, attempt 1, next in 1s",
			"1s failed, attempt 2, next in 2s",
			"8s failed, attempt 1, next in 1s",
			"9s failed, attempt 2, next in 2s",
		}
		if got := j.get(); strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("events:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		g.Cancel(nil)
		g.Wait(t.Context())
	})
}

// With OnSuccess a nil return is restarted after the backoff too, but is
// no failure: no event, and MaxFailures does not count it.
func TestRestartOnSuccess(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var events []string
		g := waitgroup.New(waitgroup.Events(func(e waitgroup.Event) { events = append(events, e.Kind.String()) }))
		s := newStarts()
		g.Go(func(ctx context.Context) error {
			if s.add() == 4 {
				<-ctx.Done()
			}
			return nil
		}, waitgroup.Restart(waitgroup.RestartPolicy{Initial: time.Second, Factor: 1, Jitter: -1, MaxFailures: 1, OnSuccess: true}))
		time.Sleep(time.Minute)
		if at := s.get(); len(at) != 4 || at[3] != 3*time.Second {
			t.Errorf("attempts at %v, want 4, one a second", at)
		}
		if strings.Join(events, ",") != "task restarted,task restarted,task restarted" {
			t.Errorf("events %q", events)
		}
		g.Cancel(nil)
		if err := g.Wait(t.Context()); err != nil {
			t.Errorf("Wait = %v", err)
		}
	})
}

// A task with Restart holds constant memory however often it fails.
func TestRestartConstantMemory(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := waitgroup.New()
		heap := map[int]uint64{}
		const last = 10000
		var n int
		g.Go(func(ctx context.Context) error {
			n++
			if n == 1000 || n == last {
				runtime.GC()
				var ms runtime.MemStats
				runtime.ReadMemStats(&ms)
				heap[n] = ms.HeapAlloc
			}
			if n == last {
				return nil
			}
			return fmt.Errorf("failure %d", n)
		}, waitgroup.Restart(waitgroup.RestartPolicy{Initial: time.Nanosecond, Factor: 1, Jitter: -1, Healthy: time.Hour, MaxFailures: 100, Window: time.Nanosecond}))
		if err := g.Wait(t.Context()); err != nil {
			t.Fatal(err)
		}
		// 9000 more failures: a record of each, even 8 bytes, would show.
		if grew := int64(heap[last]) - int64(heap[1000]); grew > 32<<10 {
			t.Errorf("the heap grew by %d bytes over 9000 failures", grew)
		}
	})
}

// Restart panics on a policy that cannot work, and Add refuses it.
func TestRestartMisuse(t *testing.T) {
	tests := []struct {
		name string
		f    func()
	}{
		{"negative Initial", func() { waitgroup.Restart(waitgroup.RestartPolicy{Initial: -1}) }},
		{"negative Max", func() { waitgroup.Restart(waitgroup.RestartPolicy{Max: -1}) }},
		{"negative Window", func() { waitgroup.Restart(waitgroup.RestartPolicy{Window: -1}) }},
		{"negative MaxFailures", func() { waitgroup.Restart(waitgroup.RestartPolicy{MaxFailures: -1}) }},
		{"Factor below 1", func() { waitgroup.Restart(waitgroup.RestartPolicy{Factor: 0.5}) }},
		{"Add", func() { new(waitgroup.Group).Add(waitgroup.Restart(waitgroup.RestartPolicy{})) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				if msg, _ := recover().(string); !strings.HasPrefix(msg, "waitgroup: ") {
					t.Errorf("panic %q, want a waitgroup: message", msg)
				}
			}()
			tt.f()
		})
	}
}

// A task that gives up has given its limit slot back by the time of its
// TaskGaveUp event, so that the handler may start a replacement.
func TestRestartGiveUpFreesSlot(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var g *waitgroup.Group
		replaced := false
		g = waitgroup.New(waitgroup.Limit(1), waitgroup.Events(func(e waitgroup.Event) {
			if e.Kind == waitgroup.TaskGaveUp {
				replaced = g.TryGo(func(context.Context) error { return nil }, waitgroup.Name("replacement"))
			}
		}))
		errBoom := errors.New("boom")
		g.Go(func(context.Context) error { return errBoom }, waitgroup.Restart(waitgroup.RestartPolicy{MaxFailures: 2}))
		if err := g.Wait(t.Context()); err != errBoom {
			t.Fatalf("Wait = %v", err)
		}
		if !replaced {
			t.Error("TryGo in the TaskGaveUp handler found the slot still held")
		}
	})
}
