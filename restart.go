package waitgroup

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"sync/atomic"
	"time"
)

// A RestartPolicy says when a task started with [Group.Go] or
// [Group.TryGo] and the [Restart] option is restarted, and how soon. It is
// a plain struct of durations and factors, like
// k8s.io/apimachinery's wait.Backoff; a zero field takes its default.
//
// The backoff before the k-th restart in a row is Initial·Factor^(k-1),
// at most Max, then lengthened by a random part of up to Jitter times
// itself, so that tasks that failed together do not all come back at the
// same instant: it is never shorter than the unjittered value. An attempt
// that ran for at least Healthy before it ended starts the count again.
// The defaults for Initial, Factor, Max and Healthy are those of pebble's
// service manager (500 ms doubling to 30 s, reset after 30 s of health);
// the jitter of 0.2 is ours.
type RestartPolicy struct {
	Initial time.Duration // the first backoff; default 500 ms
	Factor  float64       // each backoff in a row is the last times Factor (>= 1); default 2
	Max     time.Duration // bounds the backoff before jitter; default 30 s
	Jitter  float64       // a backoff d becomes a random one in [d, d·(1+Jitter)]; default 0.2, negative for none
	Healthy time.Duration // an attempt that ran this long resets the backoff; default Max

	// MaxFailures, if positive, makes the task give up at its MaxFailures-th
	// failure within Window, as Erlang/OTP's restart intensity does: that
	// failure is not restarted, and its error is the task's. With a zero
	// Window, the failures counted are those in a row, with no healthy
	// attempt between. The default, 0, is to restart for ever.
	MaxFailures int
	Window      time.Duration

	// OnSuccess restarts the task also when it returns nil, after the same
	// backoff (so that a task that returns at once does not spin); such a
	// return is not a failure: no event reports it and MaxFailures does not
	// count it. By default a nil return ends the task.
	OnSuccess bool
}

// Restart makes a task started with [Group.Go] or [Group.TryGo] start
// again, after a backoff, each time it fails (returns an error or panics),
// as p says, so that a consumer loop survives a broken connection. The
// task stays pending throughout: [Group.Pending] and a [*WaitError] show it
// in backoff with [TaskBackoff], its Attempt, LastErr and NextStart, and
// with [Events] each failure, restart and give-up is reported when it
// happens. A failure that is restarted is not recorded: Wait never returns
// it.
//
// Whether to restart is decided from the group's context, never from the
// error: once [Group.Context] is done, the task is not restarted, and what
// it returned is its result, as for any task. A cancellation during a
// backoff ends the task at once, with no error of its own (its failures
// were reported when they happened) and nothing restarts after. When the
// task gives up (see RestartPolicy.MaxFailures), its last error is its
// result, recorded before the TaskGaveUp event: with [CancelOnError] it
// cancels the group, as a supervisor that gives up takes its parent down
// in Erlang/OTP.
//
// Each task sleeps its backoff in its own goroutine: one task in backoff
// never delays another's restart, unlike suture, which pauses a whole
// supervisor. With a limit ([Group.SetLimit]), a task gives its slot back
// for its backoff, and takes one again, waiting with [TaskWaiting] if need
// be, before it restarts. A task with Restart holds a fixed amount of
// memory whatever the number of its failures: its last error and, with a
// Window, the times of its last MaxFailures failures.
//
// Restart panics if a field of p is negative (but Jitter) or Factor is
// below 1; [Group.Add] panics if given a Restart option.
func Restart(p RestartPolicy) TaskOption {
	switch {
	case p.Initial < 0, p.Max < 0, p.Healthy < 0, p.Window < 0, p.MaxFailures < 0:
		panic(fmt.Sprintf("waitgroup: Restart with a negative field: %+v", p))
	case p.Factor != 0 && !(p.Factor >= 1), math.IsNaN(p.Jitter) || math.IsInf(p.Jitter, 0):
		panic(fmt.Sprintf("waitgroup: Restart with Factor %v (must be 1 or more) or Jitter %v", p.Factor, p.Jitter))
	}
	if p.Initial == 0 {
		p.Initial = 500 * time.Millisecond
	}
	if p.Factor == 0 {
		p.Factor = 2
	}
	if p.Max == 0 {
		p.Max = 30 * time.Second
	}
	if p.Jitter == 0 {
		p.Jitter = 0.2
	}
	if p.Healthy == 0 {
		p.Healthy = p.Max
	}
	return restartOption{p}
}

type restartOption struct{ p RestartPolicy }

func (restartOption) taskOption() {}

// restartOf returns the state of a task with the last Restart option in
// opts, or nil if there is none.
func restartOf(opts []TaskOption) *restarter {
	var r *restarter
	for _, o := range opts {
		if o, ok := o.(restartOption); ok {
			r = &restarter{p: o.p}
		}
	}
	if r != nil && r.p.MaxFailures > 0 && r.p.Window > 0 {
		r.ring = make([]time.Duration, r.p.MaxFailures)
	}
	return r
}

// noRestart panics if opts, given to Add, hold a Restart option.
func noRestart(opts []TaskOption) {
	for _, o := range opts {
		if _, ok := o.(restartOption); ok {
			panic("waitgroup: Restart given to Add; only tasks started by Go or TryGo can be restarted")
		}
	}
}

// A restarter is the state of a task with a Restart option.
type restarter struct {
	p    RestartPolicy               // with the defaults filled in
	info atomic.Pointer[restartInfo] // what Pending shows; nil until the task first ends

	// Owned by the task's goroutine.
	attempt int             // ends in a row without a healthy attempt
	fails   int             // failures in a row without a healthy attempt
	ring    []time.Duration // with a Window: the last failures' times, since procEpoch
	oldest  int             // the ring's oldest entry, the next overwritten
	filled  int             // entries of the ring in use
}

// A restartInfo is a snapshot of a restarter for Pending; a new one
// replaces it, so that a reader needs no lock.
type restartInfo struct {
	attempt int
	lastErr error
	next    time.Time // the start of the next attempt, while in backoff
}

func (r *restarter) snapshot() *restartInfo {
	if r == nil {
		return nil
	}
	return r.info.Load()
}

// fill copies i into t.
func (i *restartInfo) fill(t *TaskInfo) {
	if i != nil {
		t.Attempt, t.LastErr, t.NextStart = i.attempt, i.lastErr, i.next
	}
}

// supervise runs the task's function until it ends for good, and returns
// the task's result (nil when it gave up: its error is recorded already).
func (t *goTask) supervise(g *Group, r *restarter) error {
	f := t.f
	ctx := &g.c
	for {
		began := g.now()
		err := t.attempt(g, f)
		// Decided from the context, never from err (suture #77): a task
		// whose group is stopping ends with what it returned, which Wait
		// sorts out as an echo of the cancellation or a real error.
		if ctx.Err() != nil || (err == nil && !r.p.OnSuccess) {
			return err
		}
		now := g.now()
		if now-began >= r.p.Healthy {
			r.attempt, r.fails = 0, 0
		}
		r.attempt++
		if err != nil {
			r.fails++
			if r.exhausted(now) {
				return t.giveUp(g, err)
			}
		}
		delay := r.delay()
		r.info.Store(&restartInfo{attempt: r.attempt, lastErr: err, next: time.Now().Add(delay)})
		// The slot is given back during the backoff, and taken again
		// after it (g.sem cannot change while t is pending).
		t.state.Store(taskBackoff | t.state.Load()&holdsSlot)
		var sem chan struct{}
		if t.giveSlotBack(g) {
			sem = g.sem
		}
		if err != nil && g.handles() {
			g.emit(Event{Kind: TaskFailed, Task: t.info(g), Err: err})
		}
		if !sleep(ctx, delay) {
			return nil
		}
		r.info.Store(&restartInfo{attempt: r.attempt, lastErr: err})
		if sem != nil {
			t.state.Store(taskWaiting)
		} else {
			t.state.Store(taskRunning)
		}
		if g.handles() {
			g.emit(Event{Kind: TaskRestarted, Task: t.info(g), Err: err})
		}
		if sem != nil {
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				return nil
			}
			t.state.Store(taskRunning | holdsSlot)
		}
		if ctx.Err() != nil {
			return nil // cancelled as the backoff ended: nothing restarts after
		}
	}
}

// attempt calls f once, and turns a panic into its error as run does. A
// runtime.Goexit goes on through: run's deferred call ends the task.
func (t *goTask) attempt(g *Group, f func(context.Context) error) (err error) {
	returned := false
	defer func() {
		if returned {
			return
		}
		err = t.recovered(recover())
	}()
	err = f(&g.c)
	returned = true
	return err
}

// giveUp records err as the task's result and reports the give-up. The
// error is recorded before the slot is given back, as finish does, and the
// events come after, so that a handler may start a task in the slot.
func (t *goTask) giveUp(g *Group, err error) error {
	r := t.restarter()
	r.info.Store(&restartInfo{attempt: r.attempt, lastErr: err})
	real := g.fail(err)
	t.giveSlotBack(g)
	if real && g.handles() {
		info := t.info(g)
		g.emit(Event{Kind: TaskFailed, Task: info, Err: err})
		g.emit(Event{Kind: TaskGaveUp, Task: info, Err: err})
	}
	return nil
}

// exhausted records a failure at now and reports whether it is the
// MaxFailures-th within the Window.
func (r *restarter) exhausted(now time.Duration) bool {
	switch {
	case r.p.MaxFailures == 0:
		return false
	case r.ring == nil:
		return r.fails >= r.p.MaxFailures
	}
	r.ring[r.oldest] = now
	r.oldest = (r.oldest + 1) % len(r.ring)
	r.filled = min(r.filled+1, len(r.ring))
	return r.filled == len(r.ring) && now-r.ring[r.oldest] <= r.p.Window
}

// delay returns the backoff before the restart after r.attempt ends in a
// row.
func (r *restarter) delay() time.Duration {
	d := float64(r.p.Initial) * math.Pow(r.p.Factor, float64(r.attempt-1))
	d = min(d, float64(r.p.Max))
	if r.p.Jitter > 0 {
		d += d * r.p.Jitter * rand.Float64()
	}
	if d >= math.MaxInt64 {
		return math.MaxInt64
	}
	return time.Duration(d)
}

// sleep waits d, and reports false if ctx ended first.
func sleep(ctx context.Context, d time.Duration) bool {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// info describes t, a task of g, as Pending does.
func (t *goTask) info(g *Group) TaskInfo {
	return candidate{g: g, seq: uint64(t.num)<<seqShift | kindGoBit, name: t.name(), pc: t.pc,
		start: t.start, goTask: true, state: t.taskState(), rs: t.restarter().snapshot()}.describe()
}
