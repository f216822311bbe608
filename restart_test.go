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

// starts records when each attempt of a task began, on the bubble's clock.
type starts struct {
	mu    sync.Mutex
	begin time.Time
	at    []time.Duration
}

func newStarts() *starts { return &starts{begin: time.Now()} }

func (s *starts) add() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.at = append(s.at, time.Since(s.begin))
	return len(s.at)
}

func (s *starts) get() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.at...)
}

// failsUntil returns a task that records its start in s and fails, with
// errors "fail 1", "fail 2"..., until its n-th attempt, which waits for
// the group's cancellation.
func failsUntil(s *starts, n int) func(context.Context) error {
	return func(ctx context.Context) error {
		k := s.add()
		if k < n {
			return fmt.Errorf("fail %d", k)
		}
		<-ctx.Done()
		return ctx.Err()
	}
}

// The k-th restart in a row comes no sooner than Initial·Factor^(k-1),
// capped at Max, and no later than that plus Jitter of it.
func TestRestartBackoff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := waitgroup.New()
		s := newStarts()
		p := waitgroup.RestartPolicy{Initial: time.Second, Factor: 2, Max: 8 * time.Second, Jitter: 0.2}
		g.Go(failsUntil(s, 8), waitgroup.Restart(p))
		time.Sleep(time.Hour)
		synctest.Wait()
		at := s.get()
		if len(at) != 8 {
			t.Fatalf("%d attempts, want 8", len(at))
		}
		for k := 1; k < len(at); k++ {
			base := min(time.Second<<(k-1), 8*time.Second)
			gap := at[k] - at[k-1]
			if gap < base || gap > base+base/5 {
				t.Errorf("restart %d came %v after the failure, want [%v, %v]", k, gap, base, base+base/5)
			}
		}
		g.Cancel(nil)
		if err := g.Wait(t.Context()); !errors.Is(err, context.Canceled) {
			t.Fatalf("Wait = %v", err)
		}
	})
}

// The jitter lengthens a capped backoff by up to Jitter of it, never
// shortens it, and does vary.
func TestRestartJitterBounded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := waitgroup.New()
		s := newStarts()
		p := waitgroup.RestartPolicy{Initial: 10 * time.Second, Max: 10 * time.Second, Jitter: 0.5}
		g.Go(failsUntil(s, 60), waitgroup.Restart(p))
		time.Sleep(24 * time.Hour)
		synctest.Wait()
		at := s.get()
		if len(at) != 60 {
			t.Fatalf("%d attempts, want 60", len(at))
		}
		distinct := map[time.Duration]bool{}
		for k := 1; k < len(at); k++ {
			gap := at[k] - at[k-1]
			distinct[gap] = true
			if gap < 10*time.Second || gap > 15*time.Second {
				t.Errorf("restart %d after %v, want [10s, 15s]", k, gap)
			}
		}
		if len(distinct) < 10 {
			t.Errorf("59 backoffs took %d distinct values: no jitter", len(distinct))
		}
		g.Cancel(nil)
		g.Wait(t.Context())
	})
}

// Cancelling the group during a 30 s backoff ends the task at once: Wait
// returns at the instant of the cancellation, with no error, and nothing
// restarts after.
func TestRestartCancelDuringBackoff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := waitgroup.New()
		s := newStarts()
		g.Go(failsUntil(s, 100), waitgroup.Restart(waitgroup.RestartPolicy{Initial: 30 * time.Second}))
		time.Sleep(10 * time.Second)
		synctest.Wait()
		if p := g.Pending(); len(p) != 1 || p[0].State != waitgroup.TaskBackoff {
			t.Fatalf("Pending = %v, want the task in backoff", p)
		}
		g.Cancel(nil)
		begin := time.Now()
		ctx, cancel := context.WithTimeout(t.Context(), time.Millisecond)
		defer cancel()
		if err := g.Wait(ctx); err != nil {
			t.Fatalf("Wait = %v, want nil", err)
		}
		if d := time.Since(begin); d > time.Millisecond {
			t.Errorf("Wait returned %v after the cancellation", d)
		}
		time.Sleep(time.Hour)
		if n := len(s.get()); n != 1 {
			t.Errorf("%d attempts, want 1: restarted after the cancellation", n)
		}
	})
}

// The restart is decided from the group's context, never from the error: a
// task that fails because the group was cancelled is not restarted and its
// error is its result, while a task that returns context.Canceled of its
// own (a request's context, say) in a live group is restarted.
func TestRestartDecidedFromContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := waitgroup.New()
		s := newStarts()
		errClosed := errors.New("connection closed")
		g.Go(func(ctx context.Context) error {
			s.add()
			<-ctx.Done()
			return errClosed
		}, waitgroup.Restart(waitgroup.RestartPolicy{}))
		synctest.Wait()
		g.Cancel(nil)
		if err := g.Wait(t.Context()); err != errClosed {
			t.Fatalf("Wait = %v, want the task's error", err)
		}
		if n := len(s.get()); n != 1 {
			t.Fatalf("%d attempts after the cancellation, want 1", n)
		}

		g2 := waitgroup.New()
		s2 := newStarts()
		g2.Go(func(ctx context.Context) error {
			if s2.add() < 3 {
				return context.Canceled // not the group's
			}
			<-ctx.Done()
			return nil
		}, waitgroup.Restart(waitgroup.RestartPolicy{Initial: time.Second, Jitter: -1}))
		time.Sleep(time.Minute)
		if n := len(s2.get()); n != 3 {
			t.Errorf("%d attempts, want 3: context.Canceled from a live group is a failure", n)
		}
		g2.Cancel(nil)
		if err := g2.Wait(t.Context()); err != nil {
			t.Errorf("Wait = %v", err)
		}
	})
}

// Pending and a WaitError show a task in backoff, its attempt, its last
// error and when it starts again.
func TestRestartPending(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := waitgroup.New(waitgroup.GroupName("consumers"))
		s := newStarts()
		g.Go(failsUntil(s, 100), waitgroup.Name("kafka"), waitgroup.Restart(waitgroup.RestartPolicy{Initial: 10 * time.Second, Jitter: -1}))
		time.Sleep(15 * time.Second) // failed at 0s and 10s; next at 30s
		synctest.Wait()
		p := g.Pending()
		if len(p) != 1 {
			t.Fatalf("Pending = %v", p)
		}
		ti := p[0]
		if ti.State != waitgroup.TaskBackoff || ti.Attempt != 2 || ti.LastErr == nil || ti.LastErr.Error() != "fail 2" ||
			!ti.NextStart.Equal(s.begin.Add(30*time.Second)) {
			t.Errorf("Pending = %+v, want in backoff, attempt 2, fail 2, next at 30s", ti)
		}
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		err := g.Wait(ctx)
		var we *waitgroup.WaitError
		if !errors.As(err, &we) || len(we.Pending) != 1 || we.Pending[0].State != waitgroup.TaskBackoff {
			t.Fatalf("Wait = %v, want a WaitError with the task in backoff", err)
		}
		if msg := err.Error(); !strings.Contains(msg, `"kafka"`) || !strings.Contains(msg, "in restart backoff, attempt 2, last error: fail 2") {
			t.Errorf("WaitError does not describe the backoff:\n%s", msg)
		}
		time.Sleep(20 * time.Second) // attempt 3 failed at 30s, in backoff till 60s (Max)
		if p := g.Pending(); p[0].Attempt != 3 || !p[0].NextStart.Equal(s.begin.Add(60*time.Second)) {
			t.Errorf("after the restart: %+v, next %v", p[0], p[0].NextStart.Sub(s.begin))
		}
		g.Cancel(nil)
		g.Wait(t.Context())
	})
}

// With a limit, a task gives its slot back for its backoff, so that
// another task can run meanwhile, and waits for one before it restarts.
func TestRestartLimitSlot(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := waitgroup.New(waitgroup.Limit(1))
		s := newStarts()
		g.Go(failsUntil(s, 2), waitgroup.Name("supervised"), waitgroup.Restart(waitgroup.RestartPolicy{Initial: 10 * time.Second, Jitter: -1}))
		synctest.Wait()
		release := make(chan struct{})
		if !g.TryGo(func(context.Context) error { <-release; return nil }, waitgroup.Name("other")) {
			t.Fatal("TryGo = false: the slot is held during the backoff")
		}
		time.Sleep(20 * time.Second)
		synctest.Wait()
		if n := len(s.get()); n != 1 {
			t.Fatalf("%d attempts: restarted without a slot", n)
		}
		var state waitgroup.TaskState = 99
		for _, ti := range g.Pending() {
			if ti.Name == "supervised" {
				state = ti.State
			}
		}
		if state != waitgroup.TaskWaiting {
			t.Errorf("state %v, want waiting for a slot", state)
		}
		close(release)
		synctest.Wait()
		if n := len(s.get()); n != 2 {
			t.Fatalf("%d attempts, want the restart once the slot was free", n)
		}
		if g.TryGo(nop) {
			t.Error("TryGo = true while the restarted task holds the slot")
		}
		g.Cancel(nil)
		g.Wait(t.Context())
		if !g.TryGo(nop) {
			t.Error("the slot was not given back")
		}
		g.Wait(t.Context())
	})
}

// A task in a long backoff does not delay another task's restart.
func TestRestartIndependent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := waitgroup.New()
		slow, fast := newStarts(), newStarts()
		g.Go(failsUntil(slow, 100), waitgroup.Restart(waitgroup.RestartPolicy{Initial: 30 * time.Second, Jitter: -1}))
		g.Go(failsUntil(fast, 100), waitgroup.Restart(waitgroup.RestartPolicy{Initial: time.Second, Factor: 1, Jitter: -1}))
		time.Sleep(5500 * time.Millisecond)
		if n, m := len(slow.get()), len(fast.get()); n != 1 || m != 6 {
			t.Errorf("after 5.5s: %d and %d attempts, want 1 and 6", n, m)
		}
		g.Cancel(nil)
		g.Wait(t.Context())
	})
}

// A panic is a failure like an error: restarted, with a *PanicError as
// LastErr; runtime.Goexit ends the task without a restart.
func TestRestartPanicAndGoexit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var lastErr error
		g := waitgroup.New(waitgroup.Events(func(e waitgroup.Event) {
			if e.Kind == waitgroup.TaskRestarted {
				lastErr = e.Err
			}
		}))
		s := newStarts()
		g.Go(func(ctx context.Context) error {
			switch s.add() {
			case 1:
				panic("bad state")
			case 2:
				runtime.Goexit()
			}
			return nil
		}, waitgroup.Restart(waitgroup.RestartPolicy{Initial: time.Second}))
		if err := g.Wait(t.Context()); err != nil {
			t.Fatalf("Wait = %v, want nil after Goexit", err)
		}
		var pe *waitgroup.PanicError
		if !errors.As(lastErr, &pe) || pe.Value != "bad state" {
			t.Errorf("restarted after %v, want the panic", lastErr)
		}
		time.Sleep(time.Hour)
		if n := len(s.get()); n != 2 {
			t.Errorf("%d attempts, want 2", n)
		}
	})
}
