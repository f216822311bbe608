package graceful

import (
	"log/slog"
	"os"
	"time"

	"github.com/gowaitgroup/waitgroup"
)

// DefaultShutdownTimeout is the shutdown deadline Run uses without
// [ShutdownTimeout]. It is below the 30 s that Kubernetes waits between
// SIGTERM and SIGKILL by default, so that Run can still report which tasks
// were stuck before the process is killed.
const DefaultShutdownTimeout = 25 * time.Second

// An Option configures [Run]. Options are immutable values: one may be
// passed to any number of Run calls, concurrently.
type Option interface {
	apply(*config)
}

type config struct {
	logger    *slog.Logger // nil: log nothing
	drain     time.Duration
	timeout   time.Duration
	readiness *Readiness
	signals   <-chan os.Signal   // nil: signal.Notify for SIGINT and SIGTERM
	name      string             // of Run's group, the first stage
	gopts     []waitgroup.Option // more options of Run's group
	stage     time.Duration      // bound of the first stage; 0: none of its own
	then      *waitgroup.Stages
}

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

// Logger makes Run log to l, while the service runs, each event of its
// group and of the group's Subs when it happens (see [waitgroup.Events]):
// a task's failure at level Error, with the task's name (or function),
// group and error, a restart of a task with [waitgroup.Restart] at Info and
// its give-up at Error; and, once a shutdown begins, one line per shutdown
// step: the signal or other reason that started it, the start of the drain
// delay, the cancellation of the tasks, and the outcome with its duration
// (at level Error, with the pending tasks, if the deadline passed). A Sub
// made with [waitgroup.StillWaitingAfter] also logs, at Warn, what its
// blocked Waits still wait for. Without this option Run logs nothing at
// all: the error it returns says everything that went wrong.
func Logger(l *slog.Logger) Option {
	return optionFunc(func(c *config) { c.logger = l })
}

// DrainDelay makes Run wait d after marking the service as draining and
// before cancelling the tasks, so that load balancers that poll a
// [Readiness] handler stop sending new work while the service still accepts
// it. The delay counts against the shutdown timeout, and must be shorter
// than it, or Run refuses to start. A second signal, or the tasks all
// ending, cuts it short. The default is no delay.
func DrainDelay(d time.Duration) Option {
	return optionFunc(func(c *config) { c.drain = max(d, 0) })
}

// ShutdownTimeout bounds the whole shutdown, from the signal (so including
// the drain delay) to the end of the last task; the default is
// [DefaultShutdownTimeout]. A d of zero or less means the default.
func ShutdownTimeout(d time.Duration) Option {
	return optionFunc(func(c *config) {
		if d <= 0 {
			d = DefaultShutdownTimeout
		}
		c.timeout = d
	})
}

// WithReadiness makes Run mark r as draining the moment shutdown begins,
// before the drain delay, so that r's handler answers 503 from then on.
func WithReadiness(r *Readiness) Option {
	return optionFunc(func(c *config) { c.readiness = r })
}

// Signals makes Run read shutdown signals from ch instead of registering for
// SIGINT and SIGTERM with [os/signal.Notify]. It serves tests, which can then
// send a signal without signalling their own process, and programs that
// already receive signals and want to forward some of them. Any value
// received counts as a signal; a closed channel counts as none.
func Signals(ch <-chan os.Signal) Option {
	return optionFunc(func(c *config) { c.signals = ch })
}

// GroupOptions adds options to Run's group, after Run's own (CancelOnError,
// and Events when a Logger is set): waitgroup.Registered and
// waitgroup.Labels put it in the live view, for instance.
func GroupOptions(opts ...waitgroup.Option) Option {
	return optionFunc(func(c *config) { c.gopts = append(c.gopts, opts...) })
}

// GroupName names the group Run creates and passes to start, which is the
// first stage of the shutdown; the default is "main". The name appears in
// the errors that list pending tasks ([waitgroup.TaskInfo.Group]) and in
// the [*waitgroup.StageError] of that stage.
func GroupName(name string) Option {
	if name == "" {
		panic("graceful: GroupName with an empty name")
	}
	return optionFunc(func(c *config) { c.name = name })
}

// StageTimeout bounds the first stage of the shutdown, the stop of Run's
// own group (its tasks and the groups linked to it), counted from the end
// of the drain delay. When it passes, Run reports the stage's pending tasks
// in a [*waitgroup.StageError] matching [waitgroup.ErrStageTimeout] and
// goes on to the stages of [Then], so that a stuck request does not cost
// the flush of everything else its turn. The default, zero, is no bound of
// its own: only the shutdown deadline. The drain delay and d together must
// end before the shutdown timeout, or Run refuses to start.
func StageTimeout(d time.Duration) Option {
	return optionFunc(func(c *config) { c.stage = max(d, 0) })
}

// Then makes st's stages follow Run's own group in the shutdown: once the
// group has stopped (or its [StageTimeout] passed), Run calls
// [waitgroup.Stages.Stop] on st, within what is left of the shutdown
// deadline and with the shutdown's cause. While the service runs, Run also
// waits for st's stages, and a stage whose context is cancelled (a task
// failed under [waitgroup.CancelOnError]) starts the shutdown, as a failing
// task of Run's group does. Add st's stages before Run, or in start: Run
// watches the stages it finds once start has returned.
//
// Run takes over st's Stop: do not call it elsewhere.
func Then(st *waitgroup.Stages) Option {
	if st == nil {
		panic("graceful: Then with a nil *waitgroup.Stages")
	}
	return optionFunc(func(c *config) { c.then = st })
}
