package main

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"unicode"
	"unicode/utf8"

	"github.com/gowaitgroup/waitgroup/graceful"
)

// app is the HTTP side of the service.
type app struct {
	ready *graceful.Readiness
	track *Tracker
	sync  bool // answer 201 only once the event is written and synced
}

func (a *app) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", a.healthz)
	mux.HandleFunc("/event", a.event)
	return mux
}

// healthz is the readiness probe: 503 while draining, as Readiness
// answers, and also while the events file is failing, since events are
// refused then.
func (a *app) healthz(w http.ResponseWriter, r *http.Request) {
	if err := a.track.Failing(); err != nil && !a.ready.Draining() {
		w.Header().Set("Cache-Control", "no-store")
		http.Error(w, "events file failing: "+err.Error(), http.StatusServiceUnavailable)
		return
	}
	a.ready.ServeHTTP(w, r)
}

const maxIDLen = 128

// event answers POST /event?id=ID with 201 Created and records ID, or with
// 503 if the tracker cannot take it now.
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
	// passed this check just before the flip is still safe: this handler
	// is a request of the HTTP server's stage, which ends before the
	// writer's stage is told to stop, and the writer writes every event
	// queued before it stopped accepting them.
	if a.ready.Draining() {
		unavailable(w, errStopped)
		return
	}
	if a.sync {
		err = a.track.EventSync(r.Context(), id)
	} else {
		err = a.track.Event(id)
	}
	if err != nil {
		unavailable(w, err)
		return
	}
	w.WriteHeader(http.StatusCreated)
}

// unavailable answers 503 with the reason the event was refused.
func unavailable(w http.ResponseWriter, err error) {
	msg := "tracker: " + err.Error() + ", retry later"
	switch {
	case errors.Is(err, errStopped):
		w.Header().Set("Connection", "close")
		msg = "tracker: shutting down, retry on another instance"
	case errors.Is(err, errFailing), errors.Is(err, errBusy):
		w.Header().Set("Retry-After", "1")
	}
	http.Error(w, msg, http.StatusServiceUnavailable)
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
