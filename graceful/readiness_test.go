package graceful_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gowaitgroup/waitgroup/graceful"
)

func TestReadiness(t *testing.T) {
	tests := []struct {
		name       string
		drain      int // calls to Drain before the probe
		wantStatus int
		wantBody   string
	}{
		{"zero value is ready", 0, http.StatusOK, "ok\n"},
		{"draining", 1, http.StatusServiceUnavailable, "draining\n"},
		{"drain twice stays draining", 2, http.StatusServiceUnavailable, "draining\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r graceful.Readiness
			for range tt.drain {
				r.Drain()
			}
			if got := r.Draining(); got != (tt.drain > 0) {
				t.Errorf("Draining = %v", got)
			}
			w := httptest.NewRecorder()
			r.ServeHTTP(w, httptest.NewRequest("GET", "/healthz", nil))
			if w.Code != tt.wantStatus || w.Body.String() != tt.wantBody {
				t.Errorf("probe = %d %q, want %d %q", w.Code, w.Body, tt.wantStatus, tt.wantBody)
			}
			if cc := w.Header().Get("Cache-Control"); cc != "no-store" {
				t.Errorf("Cache-Control = %q, want no-store", cc)
			}
		})
	}
}
