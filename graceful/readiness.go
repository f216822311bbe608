package graceful

import (
	"net/http"
	"sync/atomic"
)

// Readiness is a readiness probe: an [http.Handler] that answers 200 while
// the service takes new work and 503 once it is draining, so that a load
// balancer or Kubernetes stops routing to it before it stops listening.
// Pass it to [Run] with [WithReadiness] and mount it on the probe's path.
//
// A zero Readiness is ready. Draining is one-way: a Readiness never becomes
// ready again, because a service that started shutting down has cancelled
// its tasks. All methods are safe for concurrent use; a Drain call
// synchronizes before any Draining call that returns true.
type Readiness struct {
	draining atomic.Bool
}

// Drain marks the service as draining. Calling it again does nothing.
func (r *Readiness) Drain() { r.draining.Store(true) }

// Draining reports whether Drain has been called. Handlers may use it to
// refuse new work with 503 during the drain delay.
func (r *Readiness) Draining() bool { return r.draining.Load() }

// ServeHTTP answers "ok" with status 200 while the service is ready and
// "draining" with status 503 once it is draining, with caching disabled so
// that no proxy keeps an old answer.
func (r *Readiness) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	if r.Draining() {
		w.WriteHeader(http.StatusServiceUnavailable)
		w.Write([]byte("draining\n"))
		return
	}
	w.Write([]byte("ok\n"))
}
