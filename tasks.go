package waitgroup

import (
	"fmt"
	"math/bits"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// An ID identifies one pending unit of work returned by [Group.Add]. IDs are
// comparable; the zero ID is never issued, and an ID is only accepted by the
// [Group.Done] of the group that issued it, once.
type ID struct {
	g   *Group
	seq uint64 // unique within g, counting from 1
	idx uint32 // slot in g.tasks
}

// IsZero reports whether id is the zero ID, which no group issues.
func (id ID) IsZero() bool { return id.seq == 0 }

// String returns "#n", n counting the group's tasks from 1 in the order they
// were added.
func (id ID) String() string {
	if id.seq == 0 {
		return "#0(zero)"
	}
	return fmt.Sprintf("#%d", id.seq>>1) // the low bit is the kind
}

// TaskInfo describes a task that is not yet done, as reported by
// [Group.Pending] and [WaitError].
type TaskInfo struct {
	ID    ID
	Name  string    // the Name option, or "" if none was given
	Group string    // the GroupName of the group that holds the task
	Since time.Time // when the task was added
	// Where is the task's function (for Go and TryGo) or the file:line of the
	// Add call, so that an unnamed task can still be found in the source.
	Where string
}

// String describes the task as WaitError messages do: its name (or, without
// one, where it comes from), its group, and how long it has been pending as
// of now.
func (t TaskInfo) String() string {
	return t.describe(time.Now())
}

func (t TaskInfo) describe(now time.Time) string {
	var b strings.Builder
	if t.Name != "" {
		fmt.Fprintf(&b, "%q", t.Name)
		if t.Where != "" {
			fmt.Fprintf(&b, " (%s)", t.Where)
		}
	} else {
		b.WriteString(t.Where)
	}
	if t.Group != "" {
		fmt.Fprintf(&b, " in group %q", t.Group)
	}
	fmt.Fprintf(&b, ", pending %v", now.Sub(t.Since).Round(time.Millisecond))
	return b.String()
}

const (
	kindAdd uint8 = iota + 1 // tracked by Add, ended by Done
	kindGo                   // started by Go or TryGo, ended by return
)

// A task is one slot of a taskTable. Its size bounds the heap held per
// pending task (40 bytes on 64-bit platforms).
type task struct {
	seq  uint64 // the ID's seq while in use; 0 while free
	name string
	// pc is the Add call site (kindAdd) or the entry of the task's function
	// (kindGo); both are turned into text only when someone asks.
	pc uintptr
	// since is the monotonic offset from Group.epoch at which the task was
	// added; while the slot is free it holds the index of the next free slot.
	since time.Duration
}

func (t *task) kind() uint8 {
	if t.seq&1 == 0 {
		return kindAdd
	}
	return kindGo
}

// Chunks grow from 8 slots, so that a short-lived group with a few tasks
// allocates little, to chunkSize, after which they are all that size.
const (
	chunkSize  = 256
	smallSlots = 248 // slots in the chunks of 8, 16, 32, 64 and 128
	smallCount = 5
)

// taskTable holds the pending tasks of a group in chunks, so that growing
// never copies tasks and a million pending IDs cost 40 MB, not up to twice
// that. Free slots form a list threaded through task.since. The table is not
// safe for concurrent use; Group.mu guards it.
type taskTable struct {
	chunks [][]task
	live   []int // tasks in use in each chunk
	used   int   // tasks in use in all
	free   int   // head of the free list, -1 if empty; valid only if len(chunks) > 0
	seq    uint64
}

// keepChunks is how many chunks (1,016 slots) the table keeps however few
// tasks are pending; beyond that it shrinks (see shrink).
const keepChunks = smallCount + 3

// locate returns the chunk and offset of slot idx.
func locate(idx uint32) (k, off int) {
	if i := int(idx); i < smallSlots {
		k = bits.Len(uint(i/8+1)) - 1
		return k, i - 8*(1<<k-1)
	}
	i := int(idx) - smallSlots
	return smallCount + i/chunkSize, i % chunkSize
}

// slot returns the task at index idx, or nil if the table is not that large.
func (tt *taskTable) slot(idx uint32) *task {
	k, off := locate(idx)
	if k >= len(tt.chunks) {
		return nil
	}
	return &tt.chunks[k][off]
}

// insert stores a task and returns its slot and sequence number. The low bit
// of seq encodes the kind, so that a Done with the ID of a Go task can be
// refused without another field.
func (tt *taskTable) insert(kind uint8, name string, pc uintptr, since time.Duration) (uint32, uint64) {
	if len(tt.chunks) == 0 || tt.free < 0 {
		tt.grow()
	}
	idx := uint32(tt.free)
	k, off := locate(idx)
	t := &tt.chunks[k][off]
	tt.free = int(t.since)
	tt.seq += 2
	seq := tt.seq
	if kind == kindGo {
		seq++
	}
	*t = task{seq: seq, name: name, pc: pc, since: since}
	tt.live[k]++
	tt.used++
	return idx, seq
}

// firstSlot returns the index of the first slot of chunk k, which is also
// the capacity of a table of k chunks.
func firstSlot(k int) int {
	if k <= smallCount {
		return 8 * (1<<k - 1)
	}
	return smallSlots + (k-smallCount)*chunkSize
}

func (tt *taskTable) grow() {
	k := len(tt.chunks)
	base, size := firstSlot(k), chunkSize
	if k < smallCount {
		size = 8 << k
	}
	c := make([]task, size)
	for i := range c {
		c[i].since = time.Duration(base + i + 1)
	}
	c[size-1].since = -1
	tt.chunks = append(tt.chunks, c)
	tt.live = append(tt.live, 0)
	tt.free = base
}

// lookup returns the slot holding (idx, seq), or nil.
func (tt *taskTable) lookup(idx uint32, seq uint64) *task {
	t := tt.slot(idx)
	if t == nil || t.seq != seq || seq == 0 {
		return nil
	}
	return t
}

func (tt *taskTable) remove(idx uint32) {
	k, off := locate(idx)
	tt.chunks[k][off] = task{since: time.Duration(tt.free)}
	tt.free = int(idx)
	tt.live[k]--
	tt.used--
	if len(tt.chunks) > keepChunks && tt.used*4 <= firstSlot(len(tt.chunks)) {
		tt.shrink()
	}
}

// shrink drops the empty chunks at the end of the table, so that a burst of
// tasks does not pin memory for months while a long-lived task (a listener)
// stays pending. It runs only when at most a quarter of the slots are in use,
// which keeps its cost, a pass over the remaining slots to rebuild the free
// list lowest first, amortized over the removals that led there. IDs of the
// dropped slots stay unknown: lookup finds no such slot, and seq never
// repeats.
func (tt *taskTable) shrink() {
	n := len(tt.chunks)
	for n > keepChunks && tt.live[n-1] == 0 {
		n--
	}
	if tt.used == 0 {
		n = 0
	}
	if n == len(tt.chunks) {
		return
	}
	if n > 0 && firstSlot(len(tt.chunks))-firstSlot(n) < firstSlot(n)/2 {
		// Dropping fewer slots than half of those kept would not pay for
		// rebuilding the free list over the kept ones: wait until more of
		// the tail is empty, so that a drain from the end stays linear.
		return
	}
	clear(tt.chunks[n:])
	tt.chunks, tt.live = tt.chunks[:n], tt.live[:n]
	tt.free = -1
	for k := n - 1; k >= 0; k-- {
		c := tt.chunks[k]
		base := firstSlot(k)
		for i := len(c) - 1; i >= 0; i-- {
			if c[i].seq == 0 {
				c[i].since = time.Duration(tt.free)
				tt.free = base + i
			}
		}
	}
}

// all calls f with each task in use and its index.
func (tt *taskTable) all(f func(idx uint32, t *task)) {
	idx := uint32(0)
	for _, c := range tt.chunks {
		for i := range c {
			if c[i].seq != 0 {
				f(idx, &c[i])
			}
			idx++
		}
	}
}

// describeFunc names a task's function for humans: "pkg.(*T).Method" or
// "pkg.fn.func1 (file.go:12)" for a closure, whose name alone says little.
func describeFunc(pc uintptr) string {
	f := runtime.FuncForPC(pc)
	if f == nil {
		return fmt.Sprintf("func@%#x", pc)
	}
	// Drop the import path but the last element, and the suffix of
	// method values: "waitgroup_test.(*S).run", not ".../waitgroup_test.(*S).run-fm".
	name := strings.TrimSuffix(f.Name(), "-fm")
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		name = name[i+1:]
	}
	file, line := f.FileLine(pc)
	if file == "<autogenerated>" { // the wrapper of a method value
		return name
	}
	return fmt.Sprintf("%s (%s:%d)", name, filepath.Base(file), line)
}

// describeCaller names the Add call site at pc, a return address.
func describeCaller(pc uintptr) string {
	frames := runtime.CallersFrames([]uintptr{pc})
	fr, _ := frames.Next()
	if fr.File == "" {
		return fmt.Sprintf("Add@%#x", pc)
	}
	return fmt.Sprintf("Add at %s:%d", filepath.Base(fr.File), fr.Line)
}
