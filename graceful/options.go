package graceful

import (
	"log/slog"
	"os"
	"time"
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
	signals   <-chan os.Signal // nil: signal.Notify for SIGINT and SIGTERM
}

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

// Logger makes Run log one line per shutdown stage to l: the signal or other
// reason that started the shutdown, the start of the drain delay, the
// cancellation of the tasks, and the outcome with its duration (at level
// Error, with the pending tasks, if the deadline passed). Run logs nothing
// while the service runs. Without this option Run logs nothing at all: the
// error it returns says everything that went wrong.
func Logger(l *slog.Logger) Option {
	return optionFunc(func(c *config) { c.logger = l })
}

// DrainDelay makes Run wait d after marking the service as draining and
// before cancelling the tasks, so that load balancers that poll a
// [Readiness] handler stop sending new work while the service still accepts
// it. The delay counts against the shutdown timeout. A second signal, or
// the tasks all ending, cuts it short. The default is no delay.
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
