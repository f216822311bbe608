package main

import (
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

func ok(int, []byte) (int, error) { return 0, nil }

// A file renamed away (a log rotation) is noticed before the next write,
// which goes to a new file at the path, and the rotation is logged; the
// old file keeps what was written to it.
func TestSinkReopensReplacedFile(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newWriterFixture(t, TrackerConfig{Budget: time.Minute}, ok)
		f.start()
		f.events0("a")
		time.Sleep(time.Second)
		if err := os.Rename(f.path, f.path+".1"); err != nil {
			t.Fatal(err)
		}
		f.events0("b")
		if err := f.stop(); err != nil {
			t.Fatal(err)
		}
		if old, _ := os.ReadFile(f.path + ".1"); string(old) != "a\n" {
			t.Errorf("rotated file = %q, want a", old)
		}
		if got := f.content(); got != "b\n" {
			t.Errorf("file at the path = %q, want b", got)
		}
		if !strings.Contains(f.logs.String(), `msg="tracker: the events file was replaced or deleted; reopened it"`) ||
			!strings.Contains(f.logs.String(), "lines_in_the_old_file=1") {
			t.Errorf("the reopening was not logged:\n%s", f.logs)
		}
	})
}

// A file deleted and replaced by a directory cannot be reopened: the
// writes fail, loudly, and events are refused, until the path can be
// opened again; then the events held are written there.
func TestSinkPathBecomesDirectory(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newWriterFixture(t, TrackerConfig{Budget: time.Minute}, ok)
		f.start()
		f.events0("a")
		time.Sleep(time.Second)
		os.Remove(f.path)
		if err := os.Mkdir(f.path, 0o755); err != nil {
			t.Fatal(err)
		}
		f.events0("b")
		synctest.Wait()
		err := f.track.Failing()
		if err == nil || !strings.Contains(err.Error(), "the events file was replaced or deleted, and reopening it failed") {
			t.Fatalf("Failing = %v, want the reopening's failure", err)
		}
		if err := f.track.Event("c"); !errors.Is(err, errFailing) {
			t.Errorf("Event = %v, want errFailing", err)
		}
		time.Sleep(time.Second) // retries 10ms, 20ms, ... apart, each failing
		os.Remove(f.path)
		time.Sleep(time.Minute) // retries, at most 1.5s apart
		if err := f.stop(); err != nil {
			t.Fatal(err)
		}
		if got := f.content(); got != "b\n" {
			t.Errorf("file = %q, want b, the event held", got)
		}
		if n := strings.Count(f.logs.String(), `msg="tracker: writing events failed"`); n < 5 {
			t.Errorf("%d failures logged, want one per attempt", n)
		}
	})
}

// A file deleted after the last write is noticed at close: the lines
// written to it are gone, and close says so.
func TestSinkCloseNoticesDeletion(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newWriterFixture(t, TrackerConfig{Budget: time.Minute}, ok)
		f.start()
		f.events0("a", "b")
		time.Sleep(time.Second)
		os.Remove(f.path)
		f.events.Cancel(nil)
		if err := <-f.done; err != nil {
			t.Fatal(err)
		}
		err := f.track.Close()
		if err == nil || !strings.Contains(err.Error(), "was replaced or deleted after the last write: the 2 lines written since it was opened are not there") {
			t.Errorf("Close = %v, want it to say the lines are gone", err)
		}
		if err := f.track.Close(); err != nil {
			t.Errorf("second Close = %v, want nil", err)
		}
	})
}

// A last line left unterminated by an earlier run is ended before the
// first line of this run, so that the two are not merged.
func TestSinkEndsPartialLastLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.log")
	if err := os.WriteFile(path, []byte("old\nhal"), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := newSink(path, openFile, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.append([]byte("new\n"), 1, false); err != nil {
		t.Fatal(err)
	}
	if err := s.close(); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(path); string(got) != "old\nhal\nnew\n" {
		t.Errorf("file = %q, want the partial line ended, then the new one", got)
	}
}

// Injected faults write a part of their bytes and fail, with a
// probability near the one asked for, and the same sequence for a seed.
func TestFaultyFile(t *testing.T) {
	run := func(seed uint64) (outcomes string, written int64) {
		path := filepath.Join(t.TempDir(), "f")
		f, err := faultyOpen(0.2, seed)(path)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		var b strings.Builder
		for range 1000 {
			n, err := f.Write([]byte("0123456789\n"))
			switch {
			case err == nil && n == 11:
				b.WriteByte('.')
			case errors.Is(err, errInjected) && n < 11:
				b.WriteByte('x')
			default:
				t.Fatalf("Write = %d, %v", n, err)
			}
		}
		fi, _ := f.Stat()
		return b.String(), fi.Size()
	}
	a, sizeA := run(1)
	b, sizeB := run(1)
	if a != b || sizeA != sizeB {
		t.Error("the same seed gave different faults")
	}
	if c, _ := run(2); c == a {
		t.Error("another seed gave the same faults")
	}
	if n := strings.Count(a, "x"); n < 150 || n > 250 {
		t.Errorf("%d faults in 1000 writes at 0.2", n)
	}
	if sizeA <= int64(strings.Count(a, "."))*11 {
		t.Errorf("faults wrote nothing: size %d", sizeA)
	}
	var _ io.Writer = &faultyFile{}
}
