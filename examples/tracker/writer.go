package main

import (
	"context"
	"errors"
	"fmt"
	"time"
)

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
