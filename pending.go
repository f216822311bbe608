package waitgroup

import (
	"bytes"
	"cmp"
	"container/heap"
	"fmt"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// TaskInfo describes a task that is not yet done, as reported by
// [Group.Pending] and [WaitError].
type TaskInfo struct {
	ID    ID
	Name  string    // the Name option, or "" if none was given
	Group string    // the GroupName of the group that holds the task
	Since time.Time // when the task was added
	// Where is the task's function (for Go and TryGo) or the place of the
	// Add call ("Add at pkg/file.go:12"), so that a task can be found in the
	// source.
	Where string
	// State says what the task is doing: running (or, for an ID, pending),
	// waiting for a slot of the group's limit, or waiting to be restarted.
	State TaskState
	// For a task started with a Restart option, once it has ended: how
	// many times in a row it has ended without a healthy run (failed or,
	// with OnSuccess, returned), its last error, and, in backoff, when it
	// starts again. Zero otherwise.
	Attempt   int
	LastErr   error
	NextStart time.Time
}

// A TaskState says what a pending task is doing.
type TaskState uint8

const (
	TaskRunning TaskState = iota // running; for an ID, not yet done
	TaskWaiting                  // started by Go, waiting for a limit slot
	TaskBackoff                  // failed, waiting to be restarted
)

// String returns "running", "waiting for a limit slot" or "in restart
// backoff".
func (s TaskState) String() string {
	switch s {
	case TaskWaiting:
		return "waiting for a limit slot"
	case TaskBackoff:
		return "in restart backoff"
	}
	return "running"
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
	if t.State != TaskRunning {
		fmt.Fprintf(&b, ", %v", t.State)
	}
	if t.Attempt > 0 {
		fmt.Fprintf(&b, ", attempt %d", t.Attempt)
		if t.LastErr != nil {
			fmt.Fprintf(&b, ", last error: %s", safeString(t.LastErr.Error))
		}
	}
	fmt.Fprintf(&b, ", pending %v", now.Sub(t.Since).Round(time.Millisecond))
	return b.String()
}

// Pending returns the tasks of g, and of the groups linked to it, that are
// not done: g's own first, then each linked group's, in link order, each
// group's oldest first, each group once however often it is linked. Links
// that are not groups are included if they have a method Pending()
// []TaskInfo; such a method must not lead back to g.
//
// Within a group, every task listed was pending at some moment during the
// call, and every task pending throughout the call is listed; groups are
// read one after the other, so across a tree the list is not one moment's.
// Pending costs time in proportion to all pending tasks: to name only the
// oldest few, use [Group.OldestPending].
func (g *Group) Pending() []TaskInfo {
	var out []TaskInfo
	g.eachGroup(func(x *Group, st step, w *walk) walkAction {
		if x == nil {
			if p, ok := st.l.(interface{ Pending() []TaskInfo }); ok {
				w.foreign(func() { out = append(out, p.Pending()...) })
			}
			return walkOn
		}
		var cs []candidate
		x.candidates(-1, func(c candidate) { cs = append(cs, c) })
		slices.SortStableFunc(cs, func(a, b candidate) int { return cmp.Compare(a.start, b.start) })
		for _, c := range cs {
			out = append(out, c.describe())
		}
		return walkOn
	})
	return out
}

// OldestPending returns the n oldest tasks that are not done in g and the
// groups linked to it, oldest first, and how many are pending in all. It
// describes only the tasks it returns and looks at no more than n pending
// IDs of each group, so that naming what is stuck stays cheap with a
// million pending.
func (g *Group) OldestPending(n int) (oldest []TaskInfo, total int) {
	if n < 0 {
		n = 0
	}
	var h candHeap
	offer := func(c candidate) {
		if len(h) < n {
			heap.Push(&h, c)
		} else if n > 0 && c.since().Before(h[0].since()) {
			h[0] = c
			heap.Fix(&h, 0)
		}
	}
	var more []TaskInfo // from Links that are not groups
	g.eachGroup(func(x *Group, st step, w *walk) walkAction {
		if x == nil {
			if p, ok := st.l.(interface{ Pending() []TaskInfo }); ok {
				w.foreign(func() { more = append(more, p.Pending()...) })
			}
			return walkOn
		}
		total += x.candidates(n, offer)
		return walkOn
	})
	for _, t := range more {
		total++
		offer(candidate{info: &t, start: 0})
	}
	slices.SortStableFunc(h, func(a, b candidate) int { return a.since().Compare(b.since()) })
	oldest = make([]TaskInfo, len(h))
	for i, c := range h {
		oldest[i] = c.describe()
	}
	return oldest, total
}

type walkAction int

const (
	walkOn   walkAction = iota
	walkSkip            // do not go into this group's links
	walkStop
)

// A walk is the state of one eachGroup.
type walk struct {
	seen map[*Group]bool
}

// Pending methods of Links that are not groups may lead back into the tree
// (a wrapper of a group that links the walker): while a walk calls one,
// walks nested in it on the same goroutine share its seen groups, so that
// each group is listed once and the recursion ends.
var (
	foreignCalls atomic.Int32
	nestedWalks  sync.Map // goroutine id → *walk
)

// foreign calls f, the call of a foreign Pending method.
func (w *walk) foreign(f func()) {
	id := goid()
	prev, had := nestedWalks.Swap(id, w)
	foreignCalls.Add(1)
	defer func() {
		foreignCalls.Add(-1)
		if had {
			nestedWalks.Store(id, prev)
		} else {
			nestedWalks.Delete(id)
		}
	}()
	f()
}

// goid returns the id of the calling goroutine, read from its stack header.
func goid() uint64 {
	var buf [64]byte
	b := buf[:runtime.Stack(buf[:], false)]
	b = bytes.TrimPrefix(b, []byte("goroutine "))
	var id uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			break
		}
		id = id*10 + uint64(c-'0')
	}
	return id
}

// eachGroup calls f with g and each group linked to it, depth first in link
// order, each once, and with each Link that is not a group (x nil, st.l the
// Link). It holds one group's lock at a time, and no recursion limits the
// depth.
func (g *Group) eachGroup(f func(x *Group, st step, w *walk) walkAction) {
	w := &walk{}
	if foreignCalls.Load() > 0 {
		if outer, ok := nestedWalks.Load(goid()); ok {
			w = outer.(*walk)
		}
	}
	if w.seen == nil {
		w.seen = map[*Group]bool{}
	}
	stack := []step{{g: g}}
	for len(stack) > 0 {
		st := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if st.dep != nil {
			continue
		}
		if st.g == nil {
			if f(nil, st, w) == walkStop {
				return
			}
			continue
		}
		x := st.g
		if w.seen[x] {
			continue
		}
		w.seen[x] = true
		x.init()
		switch f(x, st, w) {
		case walkStop:
			return
		case walkSkip:
			continue
		}
		x.mu.Lock()
		n := len(stack)
		stack = x.appendLinksLocked(stack)
		x.mu.Unlock()
		slices.Reverse(stack[n:])
	}
}

// A candidate is a pending task, copied out of its group so that it can be
// described after the group's locks are released, or one that a foreign
// Pending described already (info).
type candidate struct {
	info   *TaskInfo
	g      *Group
	seg    *segment
	seq    uint64
	name   string
	pc     uintptr
	start  time.Duration
	goTask bool
	state  TaskState
	rs     *restartInfo // of a task with Restart, once it failed (restart.go)
}

func (c candidate) since() time.Time {
	if c.info != nil {
		return c.info.Since
	}
	return c.g.epoch.Add(c.start)
}

func (c candidate) describe() TaskInfo {
	if c.info != nil {
		return *c.info
	}
	t := TaskInfo{
		ID:    ID{g: c.g, seg: c.seg, seq: c.seq},
		Name:  c.name,
		Group: c.g.name,
		Since: c.since(),
		State: c.state,
	}
	if c.goTask {
		t.Where = describeFunc(c.pc)
	} else if c.pc != 0 {
		t.Where = describeCaller(c.pc)
	}
	c.rs.fill(&t)
	return t
}

// candidates calls f with g's pending tasks: all of them if n < 0, else all
// of its tasks started by Go and its n oldest IDs. It returns how many tasks
// are pending in g.
func (g *Group) candidates(n int, f func(candidate)) int {
	g.idMu.Lock()
	total := g.ids.live
	i := 0
	g.ids.oldest(func(seg *segment, sl *slot) bool {
		if n >= 0 && i >= n {
			return false
		}
		i++
		f(candidate{g: g, seg: seg, seq: sl.seq, name: sl.name, pc: sl.pc, start: sl.start})
		return true
	})
	g.idMu.Unlock()
	g.gos.walk(func(t *goTask) {
		total++
		f(candidate{g: g, seq: uint64(t.num)<<seqShift | kindGoBit, name: t.name, pc: t.pc,
			start: t.start, goTask: true, state: t.taskState(), rs: t.rs.snapshot()})
	})
	return total
}

// candHeap is a max-heap by start time: its root is the newest of the
// oldest tasks found so far, the one to replace by an older one.
type candHeap []candidate

func (h candHeap) Len() int           { return len(h) }
func (h candHeap) Less(i, j int) bool { return h[i].since().After(h[j].since()) }
func (h candHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *candHeap) Push(x any)        { *h = append(*h, x.(candidate)) }
func (h *candHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// describeFunc names a task's function for humans: "pkg.(*T).Method" or
// "pkg.fn.func1 (dir/file.go:12)" for a closure, whose name alone says
// little.
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

// describeCaller names the Add call site at pc, a return address, as
// "Add at pkg/file.go:12": the package tells apart the many main.go and
// server.go of a program.
func describeCaller(pc uintptr) string {
	frames := runtime.CallersFrames([]uintptr{pc})
	fr, _ := frames.Next()
	if fr.File == "" {
		return fmt.Sprintf("Add@%#x", pc)
	}
	return fmt.Sprintf("Add at %s/%s:%d", funcPackage(fr.Function), filepath.Base(fr.File), fr.Line)
}

// funcPackage returns the package name in a function's full name:
// "waitgroup_test" for "github.com/x/waitgroup_test.TestA.func1".
func funcPackage(fn string) string {
	if i := strings.LastIndexByte(fn, '/'); i >= 0 {
		fn = fn[i+1:]
	}
	if i := strings.IndexByte(fn, '.'); i >= 0 {
		fn = fn[:i]
	}
	return fn
}
