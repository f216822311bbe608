package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
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

// errInterrupted is what flush returns when it was told to stop during a
// backoff; the batch is kept.
var errInterrupted = errors.New("interrupted")

// Run is the writer. It writes the queue until ctx is done; then it
// refuses new events, writes those queued until the budget passes, and
// returns nil, or an error counting the events it could not write. It
// returns at once, with that count, if the file cannot be repaired.
func (t *Tracker) Run(ctx context.Context) error {
	for ctx.Err() == nil {
		select {
		case <-t.wake:
		case <-ctx.Done():
			continue
		}
		if err := t.flush(ctx.Done()); err != nil && !errors.Is(err, errInterrupted) {
			return t.abandon(err)
		}
	}
	t.mu.Lock()
	t.stopped = true
	t.mu.Unlock()
	budget, cancel := context.WithTimeout(context.WithoutCancel(ctx), t.cfg.Budget)
	defer cancel()
	if err := t.flush(budget.Done()); err != nil {
		if errors.Is(err, errInterrupted) {
			err = fmt.Errorf("gave up after the %v budget; the last write failed: %w", t.cfg.Budget, t.Failing())
		}
		return t.abandon(err)
	}
	return nil
}

// flush writes the queue until it is empty, or done is closed during a
// backoff (errInterrupted), or the file cannot be repaired.
func (t *Tracker) flush(done <-chan struct{}) error {
	for len(t.batch) > 0 || t.take() {
		if err := t.write(done); err != nil {
			return err
		}
	}
	return nil
}

// take moves the next batch from the queue and encodes it.
func (t *Tracker) take() bool {
	t.mu.Lock()
	n := min(len(t.queue), maxBatch)
	t.batch = append(t.batch[:0], t.queue[:n]...)
	rest := copy(t.queue, t.queue[n:])
	clear(t.queue[rest:])
	t.queue = t.queue[:rest]
	t.mu.Unlock()
	t.buf = t.buf[:0]
	for _, e := range t.batch {
		t.buf = append(append(t.buf, e.id...), '\n')
	}
	return n > 0
}

// write writes the batch, retrying with backoff.
func (t *Tracker) write(done <-chan struct{}) error {
	for {
		time.Sleep(t.cfg.Latency) // the simulated network write
		err := t.sink.append(t.buf, len(t.batch), t.cfg.Sync)
		if err == nil {
			t.written()
			return nil
		}
		if errors.Is(err, errFatal) {
			return err
		}
		t.attempt++
		t.failures.Add(1)
		delay := t.backoff.delay(t.attempt)
		t.mu.Lock()
		t.failing = err
		t.mu.Unlock()
		t.cfg.Logger.Error("tracker: writing events failed", "err", err, "attempt", t.attempt, "events", len(t.batch), "retry_in", delay)
		if t.cfg.Sync {
			// The clients are waiting: they get 503 now, and their events
			// are not in the file, so that a retry writes them once.
			t.finish(t.batch, fmt.Errorf("%w: %w", errFailing, err))
			t.batch = t.batch[:0]
		}
		timer := time.NewTimer(delay)
		select {
		case <-timer.C:
		case <-done:
			timer.Stop()
			return errInterrupted
		}
		if t.cfg.Sync {
			// No batch is kept to try the file with: accept events
			// again, and let the next batch tell.
			t.mu.Lock()
			t.failing = nil
			t.mu.Unlock()
			return nil
		}
	}
}

// written completes the batch just written.
func (t *Tracker) written() {
	t.recorded.Add(int64(len(t.batch)))
	t.finish(t.batch, nil)
	t.batch = t.batch[:0]
	t.mu.Lock()
	recovered := t.failing != nil
	t.failing = nil
	t.mu.Unlock()
	if recovered {
		t.cfg.Logger.Info("tracker: the events file is writable again", "after_attempts", t.attempt)
	}
	t.attempt = 0
}

// finish answers the events' waiting clients, if any, and ends their IDs.
func (t *Tracker) finish(batch []entry, err error) {
	for _, e := range batch {
		if e.done != nil {
			e.done <- err
		}
		t.events.Done(e.wid)
	}
}

// abandon gives up on every event not written, and refuses new ones.
func (t *Tracker) abandon(cause error) error {
	t.mu.Lock()
	t.stopped = true
	rest := append(t.batch, t.queue...)
	t.queue = nil
	t.mu.Unlock()
	t.batch = nil
	t.unwritten.Add(int64(len(rest)))
	t.finish(rest, fmt.Errorf("%w: not written: %w", errStopped, cause))
	if len(rest) == 0 {
		return fmt.Errorf("tracker: the event writer stopped: %w", cause)
	}
	return fmt.Errorf("tracker: %d events accepted were not written (the first: %q): %w", len(rest), rest[0].id, cause)
}

// backoff is the pause before the k-th retry of a failed write: base
// doubled k-1 times, at most max, plus a random part of up to half that,
// so that writers sharing a disk do not retry in step. A retry never comes
// sooner than the doubled base.
type backoff struct {
	base, max time.Duration
	rng       *rand.Rand
}

func newBackoff(base, maxDelay time.Duration, seed uint64) backoff {
	if base <= 0 {
		base = 10 * time.Millisecond
	}
	if maxDelay <= 0 {
		maxDelay = time.Second
	}
	return backoff{base: base, max: max(maxDelay, base), rng: rand.New(rand.NewPCG(seed, 0x6261636b6f6666))}
}

func (b backoff) delay(k int) time.Duration {
	d := b.max
	if k <= 30 && b.base<<(k-1) < b.max {
		d = b.base << (k - 1)
	}
	return d + time.Duration(b.rng.Int64N(int64(d)/2+1))
}
