package debug

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// maxMax bounds ?max=, so that one request cannot ask for everything.
const maxMax = 10000

// Handler returns a handler that shows the live view of the registered
// groups ([waitgroup.RegisteredGroups]) and the groups below them. It
// reads these query parameters:
//
//   - format=json: JSON instead of text, of this shape (more fields may be
//     added):
//     {"groups":[{"name":…, "path":…, "pending":N, "tasks":[{"name":…,
//     "where":…, "age_seconds":F, "state":…}], "more":N}]}
//     Besides those, a group has "errors" (strings), "depth", "parent"
//     (the index in groups of the group it is shown under, -1 at the top)
//     and "more_groups"; a task has "id" and, with restarts, "attempt",
//     "last_error" and "restart_in_seconds".
//   - max=N: show at most N tasks, and N groups below it, of each group
//     (default [DefaultMax], at most 10000).
//   - stacks=1: show with each task started by Go the stacks of the
//     goroutines that carry its labels, for the groups made with
//     [waitgroup.Labels] (JSON: "stacks" of each task). This reads the
//     goroutine profile, which stops the world briefly; without it the
//     view stops nothing.
//
// The handler is safe for concurrent use. Serve it on a private address:
// see the package documentation.
func Handler() http.Handler {
	return http.HandlerFunc(serve)
}

func serve(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	n := DefaultMax
	if s := q.Get("max"); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil || n < 0 || n > maxMax {
			http.Error(w, fmt.Sprintf("debug: max=%q: want a number from 0 to %d", s, maxMax), http.StatusBadRequest)
			return
		}
	}
	stacks := false
	switch s := q.Get("stacks"); s {
	case "", "0":
	case "1":
		stacks = true
	default:
		http.Error(w, fmt.Sprintf("debug: stacks=%q: want 0 or 1", s), http.StatusBadRequest)
		return
	}
	format := q.Get("format")
	if format != "" && format != "text" && format != "json" {
		http.Error(w, fmt.Sprintf("debug: format=%q: want text or json", format), http.StatusBadRequest)
		return
	}

	var st *stackIndex
	if stacks {
		var err error
		if st, err = readStacks(); err != nil {
			http.Error(w, "debug: reading the goroutine profile: "+err.Error(), http.StatusInternalServerError)
			return
		}
	}
	v := collect(time.Now(), n, st)

	var b bytes.Buffer
	if format == "json" {
		enc := json.NewEncoder(&b)
		enc.SetIndent("", "  ")
		if err := enc.Encode(v); err != nil {
			http.Error(w, "debug: "+err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
	} else {
		if err := v.writeText(&b, stacks); err != nil {
			http.Error(w, "debug: "+err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	}
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(b.Bytes())
}

// Var returns an [expvar.Var]: its String method returns the JSON of the
// live view, as Handler's ?format=json with the default bound and without
// stacks, taken when it is called. Publish it with
// expvar.Publish("waitgroup", debug.Var()); the package does not, nor does
// it import expvar, so that importing it adds no handler to
// [net/http.DefaultServeMux].
func Var() interface{ String() string } {
	return jsonVar{}
}

type jsonVar struct{}

func (jsonVar) String() string {
	b, err := json.Marshal(collect(time.Now(), DefaultMax, nil))
	if err != nil {
		// Only strings and numbers: Marshal cannot fail on a view.
		return strconv.Quote("debug: " + err.Error())
	}
	return string(b)
}
