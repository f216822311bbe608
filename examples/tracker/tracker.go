package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gowaitgroup/waitgroup"
)

// The reasons a Tracker refuses an event; the service answers them with 503.
var (
	errStopped = errors.New("the tracker is shutting down")
	errFailing = errors.New("the events file is failing")
	errBusy    = errors.New("too many events are waiting to be written")
)

const (
	maxQueue = 1 << 16 // events accepted and not yet written
	maxBatch = 1024    // events per write
)

// A Tracker records events in the events file, one line each. Event queues
// an event and returns at once; the writer, a task started with Run, writes
// the queue in batches, one write per batch. A queued event is a pending
// task of the tracker's group (an ID from Add, named "event ID", that the
// writer Dones once the event is written), so that waiting for the group
// waits for every event accepted, and names those not written.
//
// A Tracker keeps the promise of a 201: an event it accepts is written, or
// the service says otherwise. A failed write is taken back whole (no
// partial or merged line) and retried, with a backoff, until it succeeds;
// meanwhile the tracker refuses new events, so that it stops accepting what
// it cannot store, and each failure is logged as it happens. When told to
// stop, it refuses new events, writes those queued within its budget, and
// returns an error counting the events it could not write.
//
// Event, EventSync and Failing are safe for concurrent use, also while the
// writer stops.
type Tracker struct {
	events  *waitgroup.Group
	sink    *sink
	cfg     TrackerConfig
	wake    chan struct{} // one slot: the queue has events
	backoff backoff

	mu      sync.Mutex // protects the fields below
	queue   []entry
	stopped bool  // no event is accepted any more
	failing error // the last write's error, until a write succeeds

	// Owned by the writer goroutine.
	batch   []entry
	buf     []byte
	attempt int // failed attempts at the current batch

	recorded, unwritten, failures atomic.Int64
}

// TrackerConfig is what a Tracker is made of.
type TrackerConfig struct {
	Path      string
	Open      func(path string) (file, error) // nil: openFile
	Latency   time.Duration                   // simulated latency of each write
	Sync      bool                            // sync the file after each batch
	Budget    time.Duration                   // time to write the queue once told to stop
	Seed      uint64                          // of the backoff's jitter
	Logger    *slog.Logger
	BaseDelay time.Duration // backoff; zero means 10ms
	MaxDelay  time.Duration // zero means 1s
}

type entry struct {
	id   string
	wid  waitgroup.ID // in events; Done once written or given up on
	done chan error   // EventSync's: the outcome of the event's batch
}

// NewTracker opens the events file and returns a Tracker whose events are
// tasks of events. Start the writer with events.Go(t.Run), and close the
// file with Close once the writer has stopped.
func NewTracker(events *waitgroup.Group, cfg TrackerConfig) (*Tracker, error) {
	if cfg.Open == nil {
		cfg.Open = openFile
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	s, err := newSink(cfg.Path, cfg.Open, cfg.Logger)
	if err != nil {
		return nil, err
	}
	return &Tracker{
		events: events, sink: s, cfg: cfg, wake: make(chan struct{}, 1),
		backoff: newBackoff(cfg.BaseDelay, cfg.MaxDelay, cfg.Seed),
	}, nil
}

// Event queues id to be written and returns nil, or says why it cannot.
func (t *Tracker) Event(id string) error {
	return t.enqueue(id, nil)
}

// EventSync queues id and returns once its batch is written and synced
// (nil), or is not and will not be (an error matching errFailing or
// errStopped), or ctx ends (ctx's error; the event may still be written).
func (t *Tracker) EventSync(ctx context.Context, id string) error {
	done := make(chan error, 1)
	if err := t.enqueue(id, done); err != nil {
		return err
	}
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (t *Tracker) enqueue(id string, done chan error) error {
	t.mu.Lock()
	switch {
	case t.stopped:
		t.mu.Unlock()
		return errStopped
	case t.failing != nil:
		err := fmt.Errorf("%w: %w", errFailing, t.failing)
		t.mu.Unlock()
		return err
	case len(t.queue) >= maxQueue:
		t.mu.Unlock()
		return errBusy
	}
	// The ID is added under the lock, so that it is in the group before a
	// stopping writer can see the queue empty.
	wid := t.events.Add(waitgroup.Name("event " + id))
	t.queue = append(t.queue, entry{id: id, wid: wid, done: done})
	t.mu.Unlock()
	select {
	case t.wake <- struct{}{}:
	default:
	}
	return nil
}

// Failing returns the error of the last write while no write has
// succeeded since, or nil.
func (t *Tracker) Failing() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.failing
}

// Recorded returns how many events have been written so far.
func (t *Tracker) Recorded() int64 { return t.recorded.Load() }

// Failures returns how many writes have failed so far.
func (t *Tracker) Failures() int64 { return t.failures.Load() }

// Unwritten returns how many events accepted were given up on.
func (t *Tracker) Unwritten() int64 { return t.unwritten.Load() }

// Close syncs and closes the events file; see sink.close.
func (t *Tracker) Close() error { return t.sink.close() }
