package waitgroup_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gowaitgroup/waitgroup"
)

// journal records what the tasks of a test did, with the bubble's clock.
type journal struct {
	mu      sync.Mutex
	begin   time.Time
	entries []entry
}

type entry struct {
	at   time.Duration
	what string
}

func newJournal() *journal { return &journal{begin: time.Now()} }

func (j *journal) log(format string, args ...any) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.entries = append(j.entries, entry{time.Since(j.begin), fmt.Sprintf(format, args...)})
}

// get returns the entries as "time what", in the order they were logged.
func (j *journal) get() []string {
	j.mu.Lock()
	defer j.mu.Unlock()
	var out []string
	for _, e := range j.entries {
		out = append(out, fmt.Sprintf("%v %s", e.at, e.what))
	}
	return out
}

// stopsAfter returns a task that, once cancelled, takes d to stop.
func stopsAfter(j *journal, name string, d time.Duration) func(context.Context) error {
	return func(ctx context.Context) error {
		<-ctx.Done()
		j.log("%s cancelled", name)
		time.Sleep(d)
		j.log("%s stopped", name)
		return ctx.Err()
	}
}

// Each stage is cancelled only once the one before has stopped, and a later
// stage's task keeps running (a flusher still flushing) while the earlier
// stages stop.
func TestStagesStopInOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		j := newJournal()
		var st waitgroup.Stages
		intake := st.Add("intake", 5*time.Second)
		flush := st.Add("flush", 5*time.Second)
		closing := st.Add("close", 5*time.Second)
		intake.Go(stopsAfter(j, "listener", time.Second))
		conns := intake.Sub(waitgroup.GroupName("conns")) // stops with its stage
		conns.Go(stopsAfter(j, "conn", 2*time.Second))
		flush.Go(func(ctx context.Context) error {
			// Flushes every 300ms until cancelled, then once more.
			for ctx.Err() == nil {
				time.Sleep(300 * time.Millisecond)
			}
			j.log("flusher cancelled, last flush")
			return nil
		})
		closing.Go(stopsAfter(j, "db", 0))

		if err := st.Stop(context.Background(), errors.New("shutdown")); err != nil {
			t.Fatalf("Stop = %v, want nil", err)
		}
		want := []string{
			"0s conn cancelled",
			"0s listener cancelled",
			"1s listener stopped",
			"2s conn stopped",
			"2.1s flusher cancelled, last flush", // woke from its 7th sleep
			"2.1s db cancelled",
			"2.1s db stopped",
		}
		got := j.get()
		if len(got) > 2 {
			// Cancelled at the same instant, they log in either order.
			slices.Sort(got[:2])
		}
		if !slices.Equal(got, want) {
			t.Errorf("journal:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	})
}

// A stage that misses its bound is reported by name, matching
// ErrStageTimeout and DeadlineExceeded and naming its stuck task, and the
// stages after it still get their turn, each with its own bound.
func TestStagesMissedBoundDoesNotSkipLaterStages(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		j := newJournal()
		release := make(chan struct{})
		defer close(release)
		var st waitgroup.Stages
		intake := st.Add("intake", time.Second)
		flush := st.Add("flush", 2*time.Second)
		closing := st.Add("close", 3*time.Second)
		intake.Go(stopsAfter(j, "listener", 0))
		flush.Go(func(context.Context) error { <-release; return nil }, waitgroup.Name("stuck flusher"))
		closing.Go(stopsAfter(j, "db", time.Second))

		begin := time.Now()
		err := st.Stop(context.Background(), nil)
		if d := time.Since(begin); d != 3*time.Second {
			t.Errorf("Stop took %v, want 2s for the flush bound + 1s for the db", d)
		}
		var se *waitgroup.StageError
		if !errors.As(err, &se) || se.Stage != "flush" || se.Bound != 2*time.Second {
			t.Fatalf("Stop = %v, want a StageError for flush", err)
		}
		if !errors.Is(err, waitgroup.ErrStageTimeout) || !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Stop = %v, want ErrStageTimeout and DeadlineExceeded", err)
		}
		var we *waitgroup.WaitError
		if !errors.As(err, &we) || we.Total != 1 || we.Pending[0].Name != "stuck flusher" || we.Pending[0].Group != "flush" {
			t.Errorf("Stop = %v, want the stuck flusher named in group flush", err)
		}
		if msg := err.Error(); !strings.HasPrefix(msg, `waitgroup: stage "flush" did not stop within 2s: `) {
			t.Errorf("message %q does not name the stage and its bound", msg)
		}
		want := []string{"0s listener cancelled", "0s listener stopped", "2s db cancelled", "3s db stopped"}
		if got := j.get(); !slices.Equal(got, want) {
			t.Errorf("journal %q, want %q", got, want)
		}
	})
}

// When Stop's own context ends, the stages left are still cancelled, in
// order, and reported with that context's cause, not as missed bounds.
func TestStagesStopContextEnds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		j := newJournal()
		release := make(chan struct{})
		defer close(release)
		var st waitgroup.Stages
		st.Add("intake", 10*time.Second).Go(func(context.Context) error { <-release; return nil }, waitgroup.Name("stuck"))
		closing := st.Add("close", 10*time.Second)
		closing.Go(stopsAfter(j, "db", time.Second))
		errDeadline := errors.New("overall deadline")
		ctx, cancel := context.WithTimeoutCause(context.Background(), 4*time.Second, errDeadline)
		defer cancel()
		begin := time.Now()
		err := st.Stop(ctx, nil)
		if d := time.Since(begin); d != 4*time.Second {
			t.Errorf("Stop took %v, want the 4s of its context", d)
		}
		if !errors.Is(err, errDeadline) || errors.Is(err, waitgroup.ErrStageTimeout) {
			t.Errorf("Stop = %v, want the context's cause and no ErrStageTimeout", err)
		}
		for _, want := range []string{`stage "intake" had not stopped`, `"stuck"`, `stage "close" had not stopped`} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("Stop = %v, want it to contain %q", err, want)
			}
		}
		synctest.Wait()
		if got := j.get(); !slices.Equal(got, []string{"4s db cancelled"}) {
			t.Errorf("journal %q: the close stage was not cancelled when the wait ended", got)
		}
		if err := closing.Wait(context.Background()); !errors.Is(err, context.Canceled) {
			t.Errorf("close stage: %v, want the echo of its cancellation", err)
		}
	})
}

// Stop reports the task errors of each stage, in stage order, and leaves
// out the errors that only echo the stage's cancellation.
func TestStagesStopErrors(t *testing.T) {
	errFlush := errors.New("flush failed")
	errClose := errors.New("close failed")
	cause := errors.New("shutting down")
	tests := []struct {
		name  string
		tasks map[string]func(context.Context) error
		want  []error // each must match; nil: Stop returns nil
	}{
		{"echoes only", map[string]func(context.Context) error{
			"intake": func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() },
			"flush":  func(ctx context.Context) error { <-ctx.Done(); return context.Cause(ctx) },
			"close":  func(ctx context.Context) error { <-ctx.Done(); return fmt.Errorf("db: %w", context.Cause(ctx)) },
		}, nil},
		{"real errors", map[string]func(context.Context) error{
			"intake": func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() },
			"flush":  func(ctx context.Context) error { <-ctx.Done(); return errFlush },
			"close":  func(ctx context.Context) error { <-ctx.Done(); return errClose },
		}, []error{errFlush, errClose}},
		{"panic", map[string]func(context.Context) error{
			"flush": func(ctx context.Context) error { <-ctx.Done(); panic("flusher bug") },
		}, []error{new(waitgroup.PanicError)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var st waitgroup.Stages
				for _, name := range []string{"intake", "flush", "close"} {
					g := st.Add(name, time.Second)
					if f := tt.tasks[name]; f != nil {
						g.Go(f)
					}
				}
				err := st.Stop(context.Background(), cause)
				if tt.want == nil {
					if err != nil {
						t.Fatalf("Stop = %v, want nil", err)
					}
					return
				}
				for _, w := range tt.want {
					if pe, ok := w.(*waitgroup.PanicError); ok {
						if !errors.As(err, &pe) || pe.Value != "flusher bug" {
							t.Errorf("Stop = %v, want the panic", err)
						}
					} else if !errors.Is(err, w) {
						t.Errorf("Stop = %v, want it to match %v", err, w)
					}
				}
				if errors.Is(err, cause) || errors.Is(err, context.Canceled) {
					t.Errorf("Stop = %v, reports an echo of the cancellation", err)
				}
				if msg := err.Error(); len(tt.want) == 2 && strings.Index(msg, "flush failed") > strings.Index(msg, "close failed") {
					t.Errorf("Stop = %q, want the stages' errors in stage order", msg)
				}
			})
		})
	}
}

// The stages' contexts carry NewStages' values but not its cancellation,
// and do not derive from one another: only Stop cancels them, one at a
// time. Each stage's cause is Stop's cause.
func TestStagesContexts(t *testing.T) {
	type key struct{}
	parent, cancel := context.WithCancel(context.WithValue(context.Background(), key{}, "v"))
	st := waitgroup.NewStages(parent)
	a := st.Add("a", 0)
	b := st.Add("b", 0, waitgroup.GroupName("renamed"))
	cancel()
	for _, g := range []*waitgroup.Group{a, b} {
		if g.Context().Err() != nil {
			t.Fatal("a stage was cancelled with the parent")
		}
		if g.Context().Value(key{}) != "v" {
			t.Error("a stage lost the parent's values")
		}
	}
	a.Cancel(errors.New("a only"))
	if b.Context().Err() != nil {
		t.Fatal("cancelling a stage cancelled the next")
	}
	var names []string
	for name, g := range st.All() {
		names = append(names, name)
		if g != a && g != b {
			t.Errorf("All yielded a group that is no stage")
		}
	}
	if !slices.Equal(names, []string{"a", "b"}) {
		t.Errorf("All = %q, want [a b]", names)
	}
	for range st.All() {
		break // stopping early must be fine
	}
	b.Add(waitgroup.Name("task"))
	if p := st.Pending(); len(p) != 1 || p[0].Group != "renamed" {
		t.Errorf("Pending = %v, want the task in the group renamed by the option", p)
	}
	cause := errors.New("stopping")
	ctx, stop := context.WithTimeout(context.Background(), time.Millisecond)
	defer stop()
	st.Stop(ctx, cause)
	if context.Cause(b.Context()) != cause {
		t.Errorf("b's cause = %v, want Stop's cause", context.Cause(b.Context()))
	}
	if context.Cause(a.Context()).Error() != "a only" {
		t.Errorf("a's cause = %v, want its own first cancellation", context.Cause(a.Context()))
	}
}

// Wait waits for every stage in order without cancelling any; as a Link
// it makes a Group wait for the stages and list their tasks.
func TestStagesWait(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var st waitgroup.Stages
		errFlush := errors.New("flush failed")
		st.Add("intake", 0).Go(func(context.Context) error { time.Sleep(time.Second); return nil })
		flush := st.Add("flush", 0)
		flush.Go(func(context.Context) error { time.Sleep(2 * time.Second); return errFlush }, waitgroup.Name("flusher"))

		g := waitgroup.New(waitgroup.GroupName("service"))
		g.Link(&st)
		if p := g.Pending(); len(p) != 2 || p[1].Name != "flusher" {
			t.Errorf("Pending through the link = %v, want both stages' tasks", p)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
		defer cancel()
		err := st.Wait(ctx)
		var se *waitgroup.StageError
		if !errors.As(err, &se) || se.Stage != "flush" || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Wait = %v, want it to give up on stage flush", err)
		}
		if errors.Is(err, waitgroup.ErrStageTimeout) {
			t.Errorf("Wait = %v: its context ended, no stage bound passed", err)
		}
		if flush.Context().Err() != nil {
			t.Error("Wait cancelled a stage")
		}
		if err := g.Wait(context.Background()); !errors.Is(err, errFlush) {
			t.Errorf("Wait of a group linked to the stages = %v, want the flush error", err)
		}
		if time.Since(se.Err.(*waitgroup.WaitError).At) != 500*time.Millisecond {
			t.Errorf("the linked Wait returned at the wrong time")
		}
	})
}

// Wait reports an echo of a cancellation only when there is no real error.
func TestStagesWaitEchoes(t *testing.T) {
	var st waitgroup.Stages
	a, b := st.Add("a", 0), st.Add("b", 0)
	a.Cancel(nil)
	a.Go(func(ctx context.Context) error { return ctx.Err() })
	if err := st.Wait(context.Background()); !errors.Is(err, context.Canceled) {
		t.Errorf("Wait = %v, want the echo, as Group.Wait reports it", err)
	}
	errB := errors.New("b failed")
	b.Go(func(context.Context) error { return errB })
	if err := st.Wait(context.Background()); err != errB {
		t.Errorf("Wait = %v, want only the real error, as is", err)
	}
}

// A zero Stages stops at once; misuse panics at the call with a waitgroup:
// message.
func TestStagesMisuse(t *testing.T) {
	var empty waitgroup.Stages
	if err := empty.Stop(context.Background(), nil); err != nil {
		t.Errorf("Stop of no stages = %v", err)
	}
	if err := empty.Wait(context.Background()); err != nil {
		t.Errorf("Wait of no stages = %v", err)
	}
	tests := []struct {
		name string
		call func()
	}{
		{"empty name", func() { new(waitgroup.Stages).Add("", 0) }},
		{"negative bound", func() { new(waitgroup.Stages).Add("a", -time.Second) }},
		{"Add after Stop", func() { empty.Add("late", 0) }},
		//lint:ignore SA1012 testing the nil check
		{"nil NewStages context", func() { waitgroup.NewStages(nil) }},
		//lint:ignore SA1012 testing the nil check
		{"nil Stop context", func() { new(waitgroup.Stages).Stop(nil, nil) }},
		//lint:ignore SA1012 testing the nil check
		{"nil Wait context", func() { new(waitgroup.Stages).Wait(nil) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				if v, _ := recover().(string); !strings.HasPrefix(v, "waitgroup: ") {
					t.Errorf("panic %q, want a waitgroup: message", v)
				}
			}()
			tt.call()
		})
	}
}
