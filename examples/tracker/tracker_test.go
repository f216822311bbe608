package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gowaitgroup/waitgroup"
	"github.com/gowaitgroup/waitgroup/graceful"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	if code == 0 {
		if err := goleak.Find(); err != nil {
			os.Stderr.WriteString("goleak: " + err.Error() + "\n")
			code = 1
		}
	}
	os.Exit(code)
}

// newTestApp returns the HTTP side of the service over a fresh events file,
// and the group of its writer, which is running: cancel the group and wait
// for it to have every event accepted written.
func newTestApp(t *testing.T) (*app, *waitgroup.Group, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "events.log")
	events := waitgroup.New()
	tr, err := NewTracker(events, TrackerConfig{Path: path, Budget: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	events.Go(tr.Run, waitgroup.Name("writer"))
	t.Cleanup(func() {
		events.Cancel(nil)
		events.Wait(context.Background())
		tr.Close()
	})
	return &app{ready: new(graceful.Readiness), track: tr}, events, path
}

// Every request is answered as the contract says, and only a 201 records
// its event, exactly once.
func TestEventRequests(t *testing.T) {
	long := strings.Repeat("x", maxIDLen+1)
	tests := []struct {
		name     string
		method   string
		target   string
		draining bool
		status   int
		body     string // a part of the answer
		recorded string // the events file afterwards
	}{
		{"ok", "POST", "/event?id=a1", false, 201, "", "a1\n"},
		{"unicode id", "POST", "/event?id=%C3%A9v%C3%A9nement", false, 201, "", "événement\n"},
		{"missing id", "POST", "/event", false, 400, "need exactly one non-empty id", ""},
		{"empty id", "POST", "/event?id=", false, 400, "need exactly one non-empty id", ""},
		{"two ids", "POST", "/event?id=a&id=b", false, 400, "need exactly one non-empty id", ""},
		{"newline in id", "POST", "/event?id=a%0Ab", false, 400, "printable", ""},
		{"id too long", "POST", "/event?id=" + long, false, 400, "at most 128", ""},
		{"bad escape", "POST", "/event?id=%zz", false, 400, "malformed query", ""},
		{"GET", "GET", "/event?id=a1", false, 405, "use POST /event?id=ID", ""},
		{"PUT", "PUT", "/event?id=a1", false, 405, "not allowed", ""},
		{"draining", "POST", "/event?id=a1", true, 503, "shutting down", ""},
		{"unknown path", "POST", "/events?id=a1", false, 404, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, events, path := newTestApp(t)
			if tt.draining {
				a.ready.Drain()
			}
			w := httptest.NewRecorder()
			a.routes().ServeHTTP(w, httptest.NewRequest(tt.method, tt.target, nil))
			if w.Code != tt.status || !strings.Contains(w.Body.String(), tt.body) {
				t.Errorf("%s %s = %d %q, want %d containing %q", tt.method, tt.target, w.Code, w.Body, tt.status, tt.body)
			}
			if tt.status == 405 && w.Header().Get("Allow") != "POST" {
				t.Errorf("Allow = %q, want POST", w.Header().Get("Allow"))
			}
			events.Cancel(nil)
			if err := events.Wait(context.Background()); err != nil {
				t.Fatal(err)
			}
			got, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.recorded {
				t.Errorf("events file = %q, want %q", got, tt.recorded)
			}
		})
	}
}

// The readiness probe flips to 503 when the service starts draining.
func TestHealthz(t *testing.T) {
	a, _, _ := newTestApp(t)
	probe := func() int {
		w := httptest.NewRecorder()
		a.routes().ServeHTTP(w, httptest.NewRequest("GET", "/healthz", nil))
		return w.Code
	}
	if c := probe(); c != http.StatusOK {
		t.Errorf("healthz while serving = %d, want 200", c)
	}
	a.ready.Drain()
	if c := probe(); c != http.StatusServiceUnavailable {
		t.Errorf("healthz while draining = %d, want 503", c)
	}
}

// While the events file fails, the readiness probe answers 503 with the
// reason, and events are refused with 503; once it works again, both
// recover.
func TestHealthzWhileFailing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newWriterFixture(t, TrackerConfig{Budget: time.Minute}, failFirst(3))
		f.events0("a")
		f.start()
		a := &app{ready: new(graceful.Readiness), track: f.track}
		do := func(method, target string) (int, string) {
			w := httptest.NewRecorder()
			a.routes().ServeHTTP(w, httptest.NewRequest(method, target, nil))
			return w.Code, w.Body.String()
		}
		synctest.Wait()
		if code, body := do("GET", "/healthz"); code != 503 || !strings.Contains(body, "events file failing: disk error") {
			t.Errorf("healthz while failing = %d %q, want 503 with the reason", code, body)
		}
		if code, body := do("POST", "/event?id=b"); code != 503 || !strings.Contains(body, "the events file is failing: disk error, retry later") {
			t.Errorf("event while failing = %d %q, want 503", code, body)
		}
		time.Sleep(time.Second)
		if code, _ := do("GET", "/healthz"); code != 200 {
			t.Errorf("healthz after recovery = %d, want 200", code)
		}
		if code, _ := do("POST", "/event?id=c"); code != 201 {
			t.Errorf("event after recovery = %d, want 201", code)
		}
		if err := f.stop(); err != nil {
			t.Fatal(err)
		}
		if got := f.content(); got != "a\nc\n" {
			t.Errorf("file = %q, want a and c", got)
		}
	})
}

// With -sync, a 201 comes only once the event is in the file.
func TestEventSync(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newWriterFixture(t, TrackerConfig{Budget: time.Minute, Sync: true, Latency: time.Second}, ok)
		f.start()
		a := &app{ready: new(graceful.Readiness), track: f.track, sync: true}
		begin := time.Now()
		w := httptest.NewRecorder()
		a.routes().ServeHTTP(w, httptest.NewRequest("POST", "/event?id=a", nil))
		if w.Code != 201 || time.Since(begin) != time.Second {
			t.Errorf("answer %d after %v, want 201 after the 1s write", w.Code, time.Since(begin))
		}
		if got := f.content(); got != "a\n" {
			t.Errorf("file at the 201 = %q, want a", got)
		}
		if err := f.stop(); err != nil {
			t.Fatal(err)
		}
	})
}
