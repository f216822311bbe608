package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gowaitgroup/waitgroup"
)

// scripted is a file whose writes do what a test says: script gets the
// attempt number (from 1) and the bytes, and returns how many to write for
// real and the error to return, if any.
type scripted struct {
	file
	mu       sync.Mutex
	attempts int
	at       []time.Time // when each write was attempted
	script   func(attempt int, b []byte) (int, error)
	truncErr error
}

func (s *scripted) Write(b []byte) (int, error) {
	s.mu.Lock()
	s.attempts++
	s.at = append(s.at, time.Now())
	n, err := s.script(s.attempts, b)
	s.mu.Unlock()
	if err == nil {
		return s.file.Write(b)
	}
	w, werr := s.file.Write(b[:n])
	if werr != nil {
		return w, werr
	}
	return w, err
}

func (s *scripted) Truncate(size int64) error {
	if s.truncErr != nil {
		return s.truncErr
	}
	return s.file.Truncate(size)
}

func (s *scripted) times() []time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.at)
}

// writerFixture is a Tracker on a file in a temporary directory, its
// writer run by start in a group, as the events stage runs it.
type writerFixture struct {
	t      *testing.T
	path   string
	events *waitgroup.Group
	track  *Tracker
	file   *scripted
	logs   *lockedBuilder
	done   chan error // the writer's result
}

func newWriterFixture(t *testing.T, cfg TrackerConfig, script func(int, []byte) (int, error)) *writerFixture {
	t.Helper()
	f := &writerFixture{t: t, path: filepath.Join(t.TempDir(), "events.log"), events: waitgroup.New(waitgroup.GroupName("events")),
		logs: new(lockedBuilder), done: make(chan error, 1)}
	cfg.Path = f.path
	cfg.Logger = slog.New(slog.NewTextHandler(f.logs, &slog.HandlerOptions{ReplaceAttr: dropTime}))
	cfg.Open = func(path string) (file, error) {
		real, err := openFile(path)
		if err != nil {
			return nil, err
		}
		f.file = &scripted{file: real, script: script}
		return f.file, nil
	}
	tr, err := NewTracker(f.events, cfg)
	if err != nil {
		t.Fatal(err)
	}
	f.track = tr
	return f
}

// start starts the writer. Tests queue their first events before, so that
// the first batch holds them all.
func (f *writerFixture) start() {
	f.events.Go(func(ctx context.Context) error {
		err := f.track.Run(ctx)
		f.done <- err
		return err
	}, waitgroup.Name("writer"))
}

func dropTime(_ []string, a slog.Attr) slog.Attr {
	if a.Key == slog.TimeKey {
		return slog.Attr{}
	}
	return a
}

// stop stops the writer and returns its result, once the file is closed.
func (f *writerFixture) stop() error {
	f.events.Cancel(nil)
	err := <-f.done
	f.events.Wait(context.Background())
	if cerr := f.track.Close(); cerr != nil {
		f.t.Errorf("Close = %v", cerr)
	}
	return err
}

func (f *writerFixture) content() string {
	data, err := os.ReadFile(f.path)
	if err != nil {
		f.t.Fatal(err)
	}
	return string(data)
}

func (f *writerFixture) events0(ids ...string) {
	f.t.Helper()
	for _, id := range ids {
		if err := f.track.Event(id); err != nil {
			f.t.Fatalf("Event(%q) = %v", id, err)
		}
	}
}

var errDisk = errors.New("disk error")

// failFirst fails the first k writes, each after writing half its bytes.
func failFirst(k int) func(int, []byte) (int, error) {
	return func(attempt int, b []byte) (int, error) {
		if attempt <= k {
			return len(b) / 2, errDisk
		}
		return 0, nil
	}
}

// A failed write is retried after a backoff that doubles from 10ms, plus a
// jitter of at most half: the k-th retry comes no sooner than 10ms×2^(k-1)
// after the failure before it, and no later than 1.5 times that.
func TestWriterBackoff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newWriterFixture(t, TrackerConfig{Budget: time.Minute, Seed: 7}, failFirst(8))
		f.events0("a")
		f.start()
		synctest.Wait()
		for f.track.Failing() != nil || f.track.Recorded() == 0 {
			time.Sleep(time.Millisecond)
		}
		at := f.file.times()
		if len(at) != 9 {
			t.Fatalf("%d writes, want 8 failures and a success", len(at))
		}
		for k := 1; k < len(at); k++ {
			nominal := min(10*time.Millisecond<<(k-1), time.Second)
			if gap := at[k].Sub(at[k-1]); gap < nominal || gap > nominal*3/2 {
				t.Errorf("retry %d came %v after the failure, want between %v and %v", k, gap, nominal, nominal*3/2)
			}
		}
		if err := f.stop(); err != nil {
			t.Fatal(err)
		}
		if got := f.content(); got != "a\n" {
			t.Errorf("file = %q, want the event once, whole", got)
		}
	})
}

// While writes fail, events are refused, Failing says why, and each
// failure is logged as it happens; once a write succeeds, events are
// accepted again, and the short writes left no partial line.
func TestWriterRefusesWhileFailing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newWriterFixture(t, TrackerConfig{Budget: time.Minute}, failFirst(3))
		f.events0("a", "b")
		f.start()
		synctest.Wait() // the first write failed; the writer waits 10ms or more
		if err := f.track.Failing(); !errors.Is(err, errDisk) {
			t.Errorf("Failing = %v, want the write's error", err)
		}
		if err := f.track.Event("c"); !errors.Is(err, errFailing) || !errors.Is(err, errDisk) {
			t.Errorf("Event while failing = %v, want errFailing with the cause", err)
		}
		if n := strings.Count(f.logs.String(), `msg="tracker: writing events failed"`); n != 1 {
			t.Errorf("%d failures logged after the first, want 1:\n%s", n, f.logs)
		}
		time.Sleep(time.Second) // well past the retries
		if err := f.track.Failing(); err != nil {
			t.Errorf("Failing = %v after a write succeeded", err)
		}
		f.events0("d")
		if err := f.stop(); err != nil {
			t.Fatal(err)
		}
		if got := f.content(); got != "a\nb\nd\n" {
			t.Errorf("file = %q, want a, b and d, whole, once each", got)
		}
		for i := 1; i <= 3; i++ {
			if !strings.Contains(f.logs.String(), fmt.Sprintf(`err="disk error" attempt=%d events=2 `, i)) {
				t.Errorf("failure %d not logged:\n%s", i, f.logs)
			}
		}
		if !strings.Contains(f.logs.String(), `msg="tracker: the events file is writable again" after_attempts=3`) {
			t.Errorf("recovery not logged:\n%s", f.logs)
		}
	})
}

// Told to stop while the file fails, the writer refuses new events, keeps
// retrying for its budget, then gives up: its error counts the events not
// written, their tasks are done, and nothing is written after.
func TestWriterGivesUpAfterBudget(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newWriterFixture(t, TrackerConfig{Budget: 2 * time.Second}, failFirst(1000))
		f.events0("a", "b", "c")
		f.start()
		synctest.Wait()
		begin := time.Now()
		f.events.Cancel(nil)
		synctest.Wait()
		if err := f.track.Event("late"); !errors.Is(err, errStopped) {
			t.Errorf("Event after stop = %v, want errStopped", err)
		}
		err := <-f.done
		if d := time.Since(begin); d < 2*time.Second || d > 2*time.Second+time.Second*3/2 {
			t.Errorf("gave up %v after the stop, want after the 2s budget and the backoff in progress", d)
		}
		if err == nil || !strings.Contains(err.Error(), `3 events accepted were not written (the first: "a")`) || !errors.Is(err, errDisk) {
			t.Errorf("Run = %v, want the count and the cause", err)
		}
		if f.track.Unwritten() != 3 || f.track.Recorded() != 0 {
			t.Errorf("unwritten %d, recorded %d; want 3 and 0", f.track.Unwritten(), f.track.Recorded())
		}
		if werr := f.events.Wait(context.Background()); !errors.Is(werr, errDisk) {
			t.Errorf("events group = %v, want the writer's error and no event pending", werr)
		}
		n := len(f.file.times())
		time.Sleep(time.Minute)
		if len(f.file.times()) != n {
			t.Error("the writer wrote after giving up")
		}
		f.track.Close()
		if got := f.content(); got != "" {
			t.Errorf("file = %q, want nothing, not even part of a line", got)
		}
	})
}

// With Sync, a batch whose write fails is answered with errFailing and
// taken back whole, so that the clients' retries are written once; a
// batch written is synced before its clients get nil.
func TestWriterSyncMode(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newWriterFixture(t, TrackerConfig{Budget: time.Minute, Sync: true}, failFirst(1))
		f.start()
		if err := f.track.EventSync(t.Context(), "a"); !errors.Is(err, errFailing) || !errors.Is(err, errDisk) {
			t.Fatalf("EventSync with a failing write = %v, want errFailing", err)
		}
		time.Sleep(time.Second) // past the backoff
		if err := f.track.EventSync(t.Context(), "a"); err != nil {
			t.Fatalf("EventSync retried = %v", err)
		}
		if got := f.content(); got != "a\n" {
			t.Errorf("file = %q right after the 201, want a once", got)
		}
		if err := f.stop(); err != nil {
			t.Fatal(err)
		}
	})
}

// A file that cannot be put back after a short write stops the writer at
// once, loudly, with the count of the events not written.
func TestWriterCannotRepair(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newWriterFixture(t, TrackerConfig{Budget: time.Minute}, failFirst(1))
		f.file.truncErr = syscall.EROFS
		f.events0("a")
		f.start()
		err := <-f.done
		if !errors.Is(err, errFatal) || !errors.Is(err, syscall.EROFS) || !strings.Contains(err.Error(), `1 events accepted were not written (the first: "a")`) {
			t.Errorf("Run = %v, want a fatal error counting the event", err)
		}
		if err := f.track.Event("c"); !errors.Is(err, errStopped) {
			t.Errorf("Event after the writer stopped = %v, want errStopped", err)
		}
		f.events.Wait(context.Background())
		f.track.Close()
	})
}
