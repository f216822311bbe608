package main

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"sync"
	"sync/atomic"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/gowaitgroup/waitgroup"
	"github.com/gowaitgroup/waitgroup/graceful"
)

// A Tracker records events asynchronously, one line per event in a file,
// after a simulated write latency. This is the Tracker of the "incomplete
// work" article done right: each event is a task of a waitgroup.Group (never
// a bare go statement), so the service's shutdown waits for every event it
// accepted, within its deadline, and names the ones it could not wait for.
//
// Event is safe for concurrent use, also while the group is being waited
// for: an event tracked during the Wait is covered by it.
type Tracker struct {
	events  *waitgroup.Group
	latency time.Duration

	mu sync.Mutex // protects f's writes, so that lines never interleave
	f  *os.File

	recorded atomic.Int64
}

// NewTracker returns a Tracker that runs its events as tasks of events and
// appends them to f. f must stay open until events has been waited for.
func NewTracker(events *waitgroup.Group, f *os.File, latency time.Duration) *Tracker {
	return &Tracker{events: events, f: f, latency: latency}
}

// Event starts recording id and returns at once.
func (t *Tracker) Event(id string) {
	t.events.Go(func(context.Context) error {
		// The context is deliberately ignored: a cancelled context means
		// the service is shutting down, and this event was promised to a
		// client with 201 Created, so it is written all the same. Only the
		// shutdown deadline may leave it unwritten, and then the error
		// names it and the process exits non-zero.
		time.Sleep(t.latency) // the simulated network write
		t.mu.Lock()
		_, err := t.f.WriteString(id + "\n")
		t.mu.Unlock()
		if err != nil {
			return fmt.Errorf("tracker: recording event %q: %w", id, err)
		}
		t.recorded.Add(1)
		return nil
	}, waitgroup.Name("event "+id))
}

// Recorded returns how many events have been written so far. It is safe
// for concurrent use; once the events group has been waited for, it is the
// final count.
func (t *Tracker) Recorded() int64 { return t.recorded.Load() }

// app is the HTTP side of the service.
type app struct {
	ready *graceful.Readiness
	track *Tracker
}

func (a *app) routes() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/healthz", a.ready)
	mux.HandleFunc("/event", a.event)
	return mux
}

const maxIDLen = 128

// event answers POST /event?id=ID with 201 Created and records ID.
func (a *app) event(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "tracker: method "+r.Method+" not allowed: use POST /event?id=ID", http.StatusMethodNotAllowed)
		return
	}
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		http.Error(w, "tracker: malformed query: "+err.Error(), http.StatusBadRequest)
		return
	}
	ids := q["id"]
	if len(ids) != 1 || ids[0] == "" {
		http.Error(w, "tracker: need exactly one non-empty id: use POST /event?id=ID", http.StatusBadRequest)
		return
	}
	id := ids[0]
	if !validID(id) {
		http.Error(w, fmt.Sprintf("tracker: id must be at most %d printable characters", maxIDLen), http.StatusBadRequest)
		return
	}
	// Once draining has begun, new work goes elsewhere. A request that
	// passed this check just before the flip is still safe: the HTTP
	// server's Shutdown waits for this handler to return, so the Event
	// below happens before the server's task ends, and hence before the
	// group's Wait can see the events group idle; Wait covers tasks added
	// while it runs. The event file is closed only after that Wait.
	if a.ready.Draining() {
		w.Header().Set("Connection", "close")
		http.Error(w, "tracker: shutting down, retry on another instance", http.StatusServiceUnavailable)
		return
	}
	a.track.Event(id)
	w.WriteHeader(http.StatusCreated)
}

func validID(id string) bool {
	if len(id) > maxIDLen || !utf8.ValidString(id) {
		return false
	}
	for _, r := range id {
		if !unicode.IsPrint(r) {
			return false // a newline would break the one-line-per-event file
		}
	}
	return true
}
