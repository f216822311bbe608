package waitgroup

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"sync"
	"time"
)

// ErrStageTimeout is matched (with [errors.Is]) by the error of a stage that
// was still busy when its own bound passed: the [*StageError] that
// [Stages.Stop] reports for it, and the errors of the graceful package's
// servers whose stage limit passed. Such an error also matches
// [context.DeadlineExceeded].
var ErrStageTimeout = errors.New("waitgroup: stage bound passed")

// A StageError is what [Stages.Stop] reports for a stage whose group still
// had pending tasks when Stop stopped waiting for it, either because the
// stage's own bound passed (the error then matches [ErrStageTimeout] and
// [context.DeadlineExceeded]) or because the context passed to Stop ended
// (it then matches that context's error and cause). Err is the stage's
// [*WaitError], which names each pending task; [errors.As] finds it.
type StageError struct {
	Stage string        // the name given to [Stages.Add]
	Bound time.Duration // the stage's own bound, 0 if it has none
	Err   error         // the *WaitError of the stage's group
}

// Error names the stage, says why Stop stopped waiting for it, and lists
// its pending tasks.
func (e *StageError) Error() string {
	if errors.Is(e.Err, ErrStageTimeout) {
		return fmt.Sprintf("waitgroup: stage %q did not stop within %v: %v", e.Stage, e.Bound, e.Err)
	}
	return fmt.Sprintf("waitgroup: stage %q had not stopped when the wait ended: %v", e.Stage, e.Err)
}

// Unwrap returns Err.
func (e *StageError) Unwrap() error { return e.Err }

// Stages stops the groups of a service one after another, each within a
// bound of its own: intake (listeners, consumers), then the work in flight,
// then the writers that flush it, then the clients and files they use. Each
// stage is a [Group] made by [Stages.Add]; [Stages.Stop] cancels the first
// stage's context, waits for its group, and only then cancels the next.
//
// The stages' contexts do not derive from one another, nor from any
// context's cancellation: whatever starts the shutdown (a signal, a parent
// context) must not reach the flush stage before the intake has stopped, or
// a flusher would stop while events still arrive. Only Stop, or a stage's
// own [CancelOnError] or [Group.Cancel], cancels a stage. Work that must
// stop with a stage (a listener's connections) goes in a [Group.Sub] of it,
// which Stop waits for with the stage.
//
// Unlike fx's lifecycle, which skips every OnStop hook once its one budget
// is spent, a stage that misses its bound does not cost the stages after it
// their turn: Stop reports a [*StageError] naming it and its pending tasks,
// then cancels the next stage and waits for it with that stage's own bound.
// So the database is still closed when a flush is stuck. The price is that
// the tasks of the late stage may still run when the next one starts.
//
// Stages is in this package rather than in graceful because stopping in
// order is not only main's business: a Start/Wait/Close type stops its
// accept loop before its connections in its own Close, with no signal
// involved (examples/service does), and graceful.Run only calls Stop after
// its own group (graceful.Then). It is built on Group's public methods
// alone, so it costs nothing to a Group that does not use it.
//
// When Stop has waited for a stage rather than given up on it, the return
// of the stage's tasks (and their Done calls) synchronizes before the
// cancellation of the next stage's context: a closer may read what the
// flusher wrote without a lock.
//
// A zero Stages is valid and has no stages; the contexts of its stages
// derive from [context.Background]. A Stages must not be copied after first
// use. All methods are safe for concurrent use.
type Stages struct {
	mu       sync.Mutex
	parent   context.Context // nil means context.Background(); set by NewStages
	stages   []stage         // protected by mu; only appended to
	stopping bool            // protected by mu: Stop has begun, Add panics
}

type stage struct {
	name  string
	bound time.Duration
	g     *Group
}

// NewStages returns a Stages whose stages' contexts carry ctx's values, but
// not its cancellation (see [Stages]).
func NewStages(ctx context.Context) *Stages {
	if ctx == nil {
		panic("waitgroup: NewStages with nil context")
	}
	return &Stages{parent: context.WithoutCancel(ctx)}
}

// Add appends a stage named name and returns its group, made with opts
// after [GroupName](name), so that its pending tasks say which stage they
// are in. bound limits how long [Stages.Stop] waits for the stage; zero
// means no bound of its own (Stop's context still applies).
//
// Add panics if name is empty or bound is negative, since errors name a
// stage by its name and a negative bound is a mistake, and if Stop has
// begun: a stage added then could be skipped.
func (s *Stages) Add(name string, bound time.Duration, opts ...Option) *Group {
	if name == "" {
		panic("waitgroup: Stages.Add with an empty name")
	}
	if bound < 0 {
		panic(fmt.Sprintf("waitgroup: Stages.Add(%q) with negative bound %v", name, bound))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopping {
		panic(fmt.Sprintf("waitgroup: Stages.Add(%q) after Stop", name))
	}
	parent := s.parent
	if parent == nil {
		parent = context.Background()
	}
	g := WithContext(parent, append([]Option{GroupName(name)}, opts...)...)
	s.stages = append(s.stages, stage{name: name, bound: bound, g: g})
	return g
}

// All returns the stages in order: their names and groups.
func (s *Stages) All() iter.Seq2[string, *Group] {
	list := s.snapshot()
	return func(yield func(string, *Group) bool) {
		for _, st := range list {
			if !yield(st.name, st.g) {
				return
			}
		}
	}
}

func (s *Stages) snapshot() []stage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stages[:len(s.stages):len(s.stages)]
}

// Stop stops the stages in the order they were added: it cancels a stage's
// context with cause (nil means [context.Canceled]), waits for its group
// until the stage's bound passes or ctx ends, and goes on to the next stage
// either way. Once ctx has ended, each remaining stage is still cancelled,
// in order, and looked at once, without waiting.
//
// Stop returns nil if every stage stopped in time with no error other than
// echoes of its cancellation; otherwise the errors of each stage, in order,
// joined: a [*StageError] for each stage it stopped waiting for, and the
// task errors of the others. Stop does not wait for the late tasks of a
// stage after its bound: call [Stages.Wait] for that.
//
// Stop is meant to be called once; a second call cancels nothing new and
// waits again.
func (s *Stages) Stop(ctx context.Context, cause error) error {
	if ctx == nil {
		panic("waitgroup: Stages.Stop with nil context")
	}
	s.mu.Lock()
	s.stopping = true
	list := s.stages
	s.mu.Unlock()
	var errs []error
	for _, st := range list {
		st.g.Cancel(cause)
		if err := st.stop(ctx, cause); err != nil {
			errs = append(errs, err)
		}
	}
	return joinStageErrs(errs)
}

// stop waits for the cancelled stage and returns its result as Stop reports
// it.
func (st stage) stop(ctx context.Context, cause error) error {
	wctx := ctx
	if st.bound > 0 {
		var cancel context.CancelFunc
		wctx, cancel = context.WithTimeoutCause(ctx, st.bound, ErrStageTimeout)
		defer cancel()
	}
	err := st.g.Wait(wctx)
	if gaveUp(wctx, err) {
		return &StageError{Stage: st.name, Bound: st.bound, Err: err}
	}
	if onlyEchoes(err, cause) {
		return nil
	}
	return err
}

// gaveUp reports whether err is the give-up of a Wait with ctx rather than
// a task's result. A Wait that gives up returns its *WaitError as is; a
// task's own WaitError comes back the same way only if it is the only error
// and the work ended after ctx did, a case this mistakes for a give-up.
func gaveUp(ctx context.Context, err error) bool {
	_, ok := err.(*WaitError)
	return ok && ctx.Err() != nil
}

// onlyEchoes reports whether err is nil or only says that tasks stopped
// because their stage was cancelled: every error it joins matches
// [context.Canceled] or cause, and none is a panic.
func onlyEchoes(err, cause error) bool {
	if err == nil {
		return true
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			if !onlyEchoes(e, cause) {
				return false
			}
		}
		return true
	}
	var pe *PanicError
	if errors.As(err, &pe) {
		return false // panic(ctx.Err()) is still a panic
	}
	return errors.Is(err, context.Canceled) || (cause != nil && errors.Is(err, cause))
}

// Wait waits for every stage in order, without cancelling any, and returns
// their errors joined, or, when ctx ends first, a [*StageError] for the
// stage it was waiting for, joined after the errors found before. Errors
// that only echo a stage's cancellation are left out if another error
// exists, as [Group.Wait] does. Stages added while Wait runs are waited for
// too.
//
// Wait makes a Stages a [Link]: a Group linked to it waits for all its
// stages, and, since Stages has a Pending method, lists their tasks.
func (s *Stages) Wait(ctx context.Context) error {
	if ctx == nil {
		panic("waitgroup: Stages.Wait with nil context")
	}
	var real, noise []error
	for i := 0; ; i++ {
		list := s.snapshot()
		if i >= len(list) {
			break
		}
		st := list[i]
		err := st.g.Wait(ctx)
		switch {
		case err == nil:
		case gaveUp(ctx, err):
			return joinStageErrs(append(real, &StageError{Stage: st.name, Bound: st.bound, Err: err}))
		case st.g.Context().Err() != nil && onlyEchoes(err, context.Cause(st.g.Context())):
			noise = append(noise, err)
		default:
			real = append(real, err)
		}
	}
	if len(real) == 0 && len(noise) > 0 {
		return noise[0]
	}
	return joinStageErrs(real)
}

// joinStageErrs returns the one error of errs as is, as Group.Wait does, so
// that err == ErrX and a type assertion still work; several are joined.
func joinStageErrs(errs []error) error {
	if len(errs) == 1 {
		return errs[0]
	}
	return errors.Join(errs...)
}

// Pending returns the pending tasks of every stage, stage by stage, as
// [Group.Pending] lists them.
func (s *Stages) Pending() []TaskInfo {
	var out []TaskInfo
	for _, st := range s.snapshot() {
		out = append(out, st.g.Pending()...)
	}
	return out
}
