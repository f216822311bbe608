package waitgroup

import (
	"cmp"
	"container/heap"
	"fmt"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
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
	where := map[whereKey]string{}
	g.eachGroup(func(x *Group, st step, w *walk) walkAction {
		if x == nil {
			if p, ok := st.l.(interface{ Pending() []TaskInfo }); ok {
				w.foreign(func() { out = append(out, p.Pending()...) })
			}
			return walkOn
		}
		var cs []candidate
		x.candidates(-1, func(c candidate) { cs = append(cs, c) })
		slices.SortFunc(cs, candidate.compare)
		for _, c := range cs {
			out = append(out, c.describeIn(where))
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
	h := newOldest(n, func(a, b candidate) bool { return a.compare(b) < 0 })
	var more []TaskInfo // from Links that are not groups
	walkIdx := 0
	g.eachGroup(func(x *Group, st step, w *walk) walkAction {
		walkIdx++
		if x == nil {
			if p, ok := st.l.(interface{ Pending() []TaskInfo }); ok {
				w.foreign(func() { more = append(more, p.Pending()...) })
			}
			return walkOn
		}
		total += x.candidates(n, func(c candidate) {
			c.walk = walkIdx
			h.offer(c)
		})
		return walkOn
	})
	for i := range more {
		total++
		h.offer(candidate{info: &more[i], walk: walkIdx + 1, num: uint64(i)})
	}
	return h.describe(), total
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
	num    uint64       // the group's gen when the task was added
	walk   int          // the group's place in the walk that found it
}

// compare orders tasks oldest first: by start time, which a shared clock
// reading may make equal, then by the order of the walk (a parent's before
// its links'), then within a group by the order they were added (gen, which
// wraps: compared as a signed difference).
func (a candidate) compare(b candidate) int {
	if c := a.since().Compare(b.since()); c != 0 {
		return c
	}
	if c := cmp.Compare(a.walk, b.walk); c != 0 {
		return c
	}
	return cmp.Compare(int64((a.num-b.num)<<genShift), 0)
}

func (c candidate) since() time.Time {
	if c.info != nil {
		return c.info.Since
	}
	return c.g.startTime(c.start)
}

func (c candidate) describe() TaskInfo { return c.describeIn(nil) }

// whereKey names a function (a task started by Go) or an Add call site.
type whereKey struct {
	pc     uintptr
	goTask bool
}

// describeIn is describe, with the text of each function or call site
// looked up in where, and stored there, if where is not nil: the tasks of a
// report often share a few places, and each is turned into text once.
func (c candidate) describeIn(where map[whereKey]string) TaskInfo {
	if c.info != nil {
		return *c.info
	}
	t := TaskInfo{
		ID:    ID{g: c.g, seg: c.seg, seq: c.seq},
		Name:  c.name,
		Group: c.g.Name(),
		Since: c.since(),
		State: c.state,
	}
	if c.goTask || c.pc != 0 {
		k := whereKey{c.pc, c.goTask}
		w, ok := where[k]
		if !ok {
			if c.goTask {
				w = describeFunc(c.pc)
			} else {
				w = describeCaller(c.pc)
			}
			if where != nil {
				where[k] = w
			}
		}
		t.Where = w
	}
	c.rs.fill(&t)
	return t
}

// candidates calls f with g's pending tasks: all of them if n < 0, else all
// of its tasks started by Go and its n oldest IDs. It returns how many tasks
// are pending in g.
func (g *Group) candidates(n int, f func(candidate)) int {
	total := 0
	g.idMu.Lock()
	if g.ids != nil {
		total = g.ids.live
		i := 0
		g.ids.oldest(func(seg *segment, sl *slot) bool {
			if n >= 0 && i >= n {
				return false
			}
			i++
			f(candidate{g: g, seg: seg, seq: sl.seq, name: seg.name(sl.seq), pc: sl.pc, start: sl.start, num: sl.num})
			return true
		})
	}
	g.idMu.Unlock()
	g.gos.walk(func(t *goTask) {
		total++
		f(candidate{g: g, seq: uint64(t.num)<<seqShift | kindGoBit, name: t.name(), pc: t.pc,
			start: t.start, goTask: true, state: t.taskState(), num: uint64(t.num), rs: t.restarter().snapshot()})
	})
	return total
}

// oldestN keeps the n oldest candidates offered to it (all of them if n is
// negative), by less. While bounded it is a max-heap: its root is the
// newest of those kept, the one an older candidate replaces.
type oldestN struct {
	n    int
	less func(a, b candidate) bool // a is older than b
	h    []candidate
}

func newOldest(n int, less func(a, b candidate) bool) *oldestN {
	return &oldestN{n: n, less: less, h: make([]candidate, 0, max(min(n, 1024), 0))} // grown by append beyond
}

// offer keeps c if it is among the n oldest offered so far.
func (o *oldestN) offer(c candidate) {
	switch {
	case o.n < 0:
		o.h = append(o.h, c)
	case len(o.h) < o.n:
		heap.Push(o, c)
	case o.n > 0 && o.less(c, o.h[0]):
		o.h[0] = c
		heap.Fix(o, 0)
	}
}

// describe returns the kept candidates described, oldest first, turning each
// function or call site into text once.
func (o *oldestN) describe() []TaskInfo {
	slices.SortFunc(o.h, func(a, b candidate) int {
		if o.less(a, b) {
			return -1
		}
		return 1 // candidates are never equal: each is one task
	})
	out := make([]TaskInfo, len(o.h))
	where := map[whereKey]string{}
	for i, c := range o.h {
		out[i] = c.describeIn(where)
	}
	return out
}

func (o *oldestN) Len() int           { return len(o.h) }
func (o *oldestN) Less(i, j int) bool { return o.less(o.h[j], o.h[i]) }
func (o *oldestN) Swap(i, j int)      { o.h[i], o.h[j] = o.h[j], o.h[i] }
func (o *oldestN) Push(x any)         { o.h = append(o.h, x.(candidate)) }
func (o *oldestN) Pop() any {
	x := o.h[len(o.h)-1]
	o.h = o.h[:len(o.h)-1]
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
	name := funcName(f)
	file, line := f.FileLine(pc)
	if file == "<autogenerated>" { // the wrapper of a method value
		return name
	}
	return fmt.Sprintf("%s (%s:%d)", name, filepath.Base(file), line)
}

// funcName is f's name without the import path but its last element, and
// without the suffix of method values: "waitgroup_test.(*S).run", not
// ".../waitgroup_test.(*S).run-fm".
func funcName(f *runtime.Func) string {
	name := strings.TrimSuffix(f.Name(), "-fm")
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		name = name[i+1:]
	}
	return name
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
