package debug_test

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"go/parser"
	"go/token"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gowaitgroup/waitgroup"
	"github.com/gowaitgroup/waitgroup/debug"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// get serves one request of the handler and returns the body.
func get(t *testing.T, h http.Handler, query string) string {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/debug/waitgroup"+query, nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("GET %s: %d %s", query, rec.Code, rec.Body)
	}
	return rec.Body.String()
}

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the golden file (go test -update rewrites it):\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

// service builds the groups of the golden test, a second apart where it
// matters, and returns a function that ends their work and waits.
func service(t *testing.T) (stop func()) {
	// Registered before the group that links it: shown below that group.
	cache := waitgroup.New(waitgroup.GroupName("cache"), waitgroup.Registered(), waitgroup.Labels())
	main := waitgroup.New(waitgroup.GroupName("main"), waitgroup.Registered(), waitgroup.Labels())
	main.Link(cache)
	http := main.Sub(waitgroup.GroupName("http")) // not registered: shown below main
	conns := http.Sub(waitgroup.GroupName("conns"), waitgroup.Registered(), waitgroup.Labels())
	jobs := waitgroup.New(waitgroup.GroupName("jobs"), waitgroup.Registered(), waitgroup.Limit(1))
	plain := waitgroup.New(waitgroup.GroupName("plain")) // not listed

	release := make(gate)
	main.Go(serveForever, waitgroup.Name("http server"))
	plain.Go(release.wait, waitgroup.Name("invisible"))
	jobs.Go(func(context.Context) error { return errors.New("disk full\nafter 3 tries") }, waitgroup.Name("flush"))
	synctest.Wait() // the flush failed and freed its slot
	jobs.Go(release.wait, waitgroup.Name("compact"))
	time.Sleep(1500 * time.Millisecond)
	cache.Go(release.wait) // unnamed: described by its function
	var ids []waitgroup.ID
	slow := addRequest(http, "GET /slow")
	time.Sleep(time.Second)
	for i := range 12 {
		conns.Go(release.wait, waitgroup.Name(fmt.Sprintf("conn %d", i)))
		time.Sleep(100 * time.Millisecond)
	}
	ids = append(ids, addRequest(http, "POST /event"))
	go jobs.Go(release.wait, waitgroup.Name("reindex")) // waits for the slot
	time.Sleep(250 * time.Millisecond)
	synctest.Wait()

	return func() {
		close(release)
		for _, id := range append(ids, slow) {
			if err := http.Done(id); err != nil {
				t.Error(err)
			}
		}
		main.Cancel(nil)
		for _, g := range []*waitgroup.Group{main, jobs, plain} {
			g.Wait(context.Background())
		}
	}
}

// TestHandlerGolden freezes the text and JSON views of a small service.
func TestHandlerGolden(t *testing.T) {
	runtime.GC() // drop the registered groups of other tests
	synctest.Test(t, func(t *testing.T) {
		stop := service(t)
		defer stop()
		h := debug.Handler()
		golden(t, "view.txt", get(t, h, ""))
		golden(t, "view_max2.txt", get(t, h, "?max=2"))
		js := get(t, h, "?format=json")
		golden(t, "view.json", js)

		// The promised shape, whatever else is there.
		var v struct {
			Groups []struct {
				Name    *string `json:"name"`
				Path    *string `json:"path"`
				Pending *int    `json:"pending"`
				More    *int    `json:"more"`
				Tasks   []struct {
					Name       *string  `json:"name"`
					Where      *string  `json:"where"`
					AgeSeconds *float64 `json:"age_seconds"`
					State      *string  `json:"state"`
				} `json:"tasks"`
			} `json:"groups"`
		}
		if err := json.Unmarshal([]byte(js), &v); err != nil {
			t.Fatal(err)
		}
		if len(v.Groups) != 5 {
			t.Fatalf("%d groups in the JSON, want 5", len(v.Groups))
		}
		for _, g := range v.Groups {
			if g.Name == nil || g.Path == nil || g.Pending == nil || g.More == nil || g.Tasks == nil {
				t.Errorf("group %+v lacks a field", g)
			}
			for _, task := range g.Tasks {
				if task.Name == nil || task.Where == nil || task.AgeSeconds == nil || task.State == nil {
					t.Errorf("task %+v lacks a field", task)
				}
			}
		}

		// Var says what the JSON view says, compactly.
		var fromVar, fromHandler any
		if err := json.Unmarshal([]byte(debug.Var().String()), &fromVar); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal([]byte(js), &fromHandler); err != nil {
			t.Fatal(err)
		}
		a, _ := json.Marshal(fromVar)
		b, _ := json.Marshal(fromHandler)
		if string(a) != string(b) {
			t.Errorf("Var differs from ?format=json:\n%s\n%s", a, b)
		}
	})
}

func TestHandlerRejectsBadQueries(t *testing.T) {
	h := debug.Handler()
	for _, q := range []string{"?max=-1", "?max=x", "?max=10001", "?stacks=yes", "?format=xml"} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/"+q, nil))
		if rec.Code != http.StatusBadRequest {
			t.Errorf("%s: status %d, want 400", q, rec.Code)
		}
	}
}

// TestHandlerListsOnlyLiveRegisteredGroups checks that a group not made
// with Registered is not shown, and that a registered group that was
// dropped disappears once collected.
func TestHandlerListsOnlyLiveRegisteredGroups(t *testing.T) {
	runtime.GC()
	h := debug.Handler()
	plain := waitgroup.New(waitgroup.GroupName("unregistered-group"))
	id := plain.Add()
	defer plain.Done(id)
	func() {
		g := waitgroup.New(waitgroup.GroupName("dropped-group"), waitgroup.Registered())
		g.Add() // pending forever: only the GC ends it
	}()
	view := get(t, h, "")
	if strings.Contains(view, "unregistered-group") {
		t.Errorf("an unregistered group is listed:\n%s", view)
	}
	if !strings.Contains(view, "dropped-group: 1 pending") {
		t.Errorf("a registered group still alive is not listed:\n%s", view)
	}
	runtime.GC()
	if view := get(t, h, "?format=json"); strings.Contains(view, "dropped-group") {
		t.Errorf("a garbage collected group is still listed:\n%s", view)
	}
	if view := get(t, h, ""); !strings.Contains(view, ": 0 groups;") || !strings.Contains(view, "no registered group is alive") {
		t.Errorf("with no group registered, the view says:\n%s", view)
	}
}

// TestImportRegistersNothing backs the promise that importing the package
// adds no handler to http.DefaultServeMux: expvar and net/http/pprof do, on
// import, so the package must not import them.
func TestImportRegistersNothing(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	checked := 0
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		checked++
		for _, imp := range f.Imports {
			if p, _ := strconv.Unquote(imp.Path.Value); p == "expvar" || p == "net/http/pprof" {
				t.Errorf("%s imports %s, which registers a handler on http.DefaultServeMux", name, p)
			}
		}
	}
	if checked < 3 {
		t.Fatalf("checked %d files; is the test running in the package directory?", checked)
	}
}
