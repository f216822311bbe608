package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
