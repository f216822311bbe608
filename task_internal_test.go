package waitgroup

import (
	"context"
	"testing"
	"testing/synctest"
	"time"
	"unsafe"
)

// A fresh group costs mostly its own allocation: the state of errors, links,
// options and IDs is made on first need, so a Group that has none fits the
// 128-byte size class (it was 576 bytes).
func TestGroupSize(t *testing.T) {
	if n := unsafe.Sizeof(Group{}); n > 128 {
		t.Errorf("a Group is %d bytes, want at most 128", n)
	}
}

// A task started by Go costs its record and its goroutine's closure; the
// bytes allocated per task set how often the collector runs under a load
// of short tasks (see goTask). The record was 80 bytes.
func TestTaskRecordSize(t *testing.T) {
	if n := unsafe.Sizeof(goTask{}); n > 48 {
		t.Errorf("a goTask is %d bytes, want at most 48", n)
	}
}

// A group that runs one task and is waited for makes three allocations: the
// group, the task's record and its goroutine's closure. Wait makes none when
// the group is done with no error and nothing linked.
func TestFreshGroupAllocs(t *testing.T) {
	ctx := context.Background()
	nop := func(context.Context) error { return nil }
	n := testing.AllocsPerRun(200, func() {
		g := new(Group)
		g.Go(nop)
		if err := g.Wait(ctx); err != nil {
			t.Fatal(err)
		}
	})
	if n > 3 {
		t.Errorf("a fresh group with one task: %v allocations, want at most 3", n)
	}
}

// A task gives back at its end only a slot it took: one that started
// before a limit existed (a SetLimit racing with Go, which SetLimit cannot
// see, as the task is not pending yet when it checks) ends without waiting
// for a slot it never held.
func TestTaskWithoutSlotEndsUnderNewLimit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := New()
		release := make(chan struct{})
		g.Go(func(context.Context) error { <-release; return nil })
		g.mu.Lock()
		g.sem = make(chan struct{}, 1) // as if SetLimit(1) ran just before the task was counted
		g.flags.Or(limitedFlag)
		g.mu.Unlock()
		close(release)
		ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
		defer cancel()
		if err := g.Wait(ctx); err != nil {
			t.Fatalf("Wait = %v: the task waited to give back a slot it never took", err)
		}
		if n := len(g.sem); n != 0 {
			t.Fatalf("%d slots taken after the task ended, want 0", n)
		}
	})
}
