package waitgroup

import (
	"bytes"
	"context"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"
)

// A goTask is the record of one task started by Go: the goroutine runs it,
// and the group's list holds it so that Pending and a WaitError can name it.
//
// It is 48 bytes, and the goroutine's closure (the group and the record)
// 24: on a workload of short tasks the bytes allocated per task decide how
// often the collector runs, which is most of what a task costs beyond a go
// statement. So what only some tasks need (a name, a Restart option) is in
// meta, made only for them, and the group is the closure's.
type goTask struct {
	// next is the next older record. It is written before the record is
	// published, and after that only under golist.mu.
	next  *goTask
	f     func(context.Context) error // nil once done
	pc    uintptr                     // entry of f, turned into text only when asked
	start time.Duration               // since procEpoch (clock.go)
	state atomic.Uint32               // taskRunning, taskWaiting, taskDone or taskBackoff, with holdsSlot
	num   uint32                      // the task's number in its group, for its ID: a gen, 26 bits
	meta  *taskMeta                   // nil for a task given no options
}

// taskMeta is what a task given options carries.
type taskMeta struct {
	name string
	rs   *restarter // the Restart state (restart.go), or nil
}

// name returns t's name, or "".
func (t *goTask) name() string {
	if t.meta == nil {
		return ""
	}
	return t.meta.name
}

// restarter returns t's Restart state, or nil.
func (t *goTask) restarter() *restarter {
	if t.meta == nil {
		return nil
	}
	return t.meta.rs
}

const (
	taskRunning uint32 = iota
	taskWaiting        // for a limit slot
	taskDone
	taskBackoff // failed, waiting to be restarted (restart.go)

	stateMask = 3
	// holdsSlot, beside the state, says that the task holds a slot of its
	// group's limit, which its end gives back. The state has one writer at
	// a time: Go until it starts the goroutine, then the goroutine.
	holdsSlot = 4
)

// giveSlotBack gives back the limit slot t holds, if any, and records that
// it holds none; t's goroutine calls it. g.sem is the one t took the slot
// from: SetLimit panics while t is pending.
func (t *goTask) giveSlotBack(g *Group) (held bool) {
	s := t.state.Load()
	if s&holdsSlot == 0 {
		return false
	}
	t.state.Store(s &^ holdsSlot)
	<-g.sem
	return true
}

// done reports whether t is done.
func (t *goTask) done() bool { return t.state.Load()&stateMask == taskDone }

// taskState says what t is doing, for TaskInfo.
func (t *goTask) taskState() TaskState {
	switch t.state.Load() & stateMask {
	case taskWaiting:
		return TaskWaiting
	case taskBackoff:
		return TaskBackoff
	}
	return TaskRunning
}

// describe names t for a PanicError: its name, else its function.
func (t *goTask) describe() string {
	if name := t.name(); name != "" {
		return name
	}
	return describeFunc(t.pc)
}

// golist holds the records of a group's tasks started by Go. Go pushes
// onto it with a compare-and-swap and a task's end only marks its record,
// so neither takes a lock; done records are unlinked in batches by whoever
// finds enough of them, which keeps the list within about twice the number
// of pending tasks plus a constant.
type golist struct {
	head atomic.Pointer[goTask]
	dead atomic.Int32 // done records still linked, about
	// pruneAt is the number of dead records at which a prune pays: as many
	// as were live after the last one, so that its cost is amortized.
	pruneAt atomic.Int32

	mu sync.Mutex // serializes walks of the list and the writes of next
}

const minPrune = 64

func (l *golist) push(t *goTask) {
	for {
		old := l.head.Load()
		t.next = old
		if l.head.CompareAndSwap(old, t) {
			return
		}
	}
}

// done marks t as done and prunes the list if enough records are. Only
// every deadSample-th task adds to the shared count, by deadSample: the
// count is a trigger, not a tally, and the ends of tasks on different
// cores then rarely write the same word.
func (l *golist) done(t *goTask) {
	t.state.Store(taskDone)
	if t.num%deadSample != 0 {
		return
	}
	if n := l.dead.Add(deadSample); n >= max(l.pruneAt.Load(), minPrune) && l.mu.TryLock() {
		l.pruneLocked()
		l.mu.Unlock()
	}
}

const deadSample = 8

// pruneLocked unlinks the done records. Only the head is shared with push:
// the records after it are changed here alone.
func (l *golist) pruneLocked() {
	h := l.head.Load()
	if h == nil {
		return
	}
	removed, live := int32(0), int32(0)
	prev := h
	for n := h.next; n != nil; n = n.next {
		if n.done() {
			prev.next = n.next
			removed++
			continue
		}
		prev = n
		live++
	}
	if h.done() {
		if l.head.CompareAndSwap(h, h.next) {
			removed++
		}
	} else {
		live++
	}
	l.dead.Add(-removed)
	l.pruneAt.Store(live)
}

// pending returns how many tasks started by Go are not done.
func (l *golist) pending() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for t := l.head.Load(); t != nil; t = t.next {
		if !t.done() {
			n++
		}
	}
	return n
}

// walk calls f with each task not done, newest first.
func (l *golist) walk(f func(t *goTask)) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for t := l.head.Load(); t != nil; t = t.next {
		if !t.done() {
			f(t)
		}
	}
}

// recovered turns what recover returned in the deferred call of a task's
// function into the task's error: a *PanicError with this goroutine's
// stack, or nil for a runtime.Goexit. recover returns nil for a Goexit,
// and also for panic(nil) under GODEBUG=panicnil=1 (since Go 1.21 a
// panic(nil) is otherwise a *runtime.PanicNilError); only the stack tells
// those two apart, and it is read once, on that rare path alone.
func (t *goTask) recovered(v any) error {
	stack := debug.Stack()
	if v == nil && bytes.Contains(stack, []byte("runtime.Goexit(")) {
		return nil
	}
	return &PanicError{Value: v, Task: t.describe(), Stack: stack}
}
