package waitgroup

import (
	"context"
	"fmt"
	"runtime"
	"runtime/pprof"
)

// The keys of the [runtime/pprof] labels that [Labels] puts on the
// goroutines of tasks.
const (
	// LabelGroup's value is the path of the task's group, as in
	// [GroupSnapshot.Path]: "main/http/conns".
	LabelGroup = "waitgroup.group"
	// LabelTask's value is the task's name, or for a task without one its
	// function, as in [TaskInfo.Where] without the file and line:
	// "server.(*Server).serveConn".
	LabelTask = "waitgroup.task"
)

// Labels makes each task started by [Group.Go] or [Group.TryGo] in the group
// run with [runtime/pprof] labels that say which group ([LabelGroup]) and
// which task ([LabelTask]) it is, so that goroutine and CPU profiles (go
// tool pprof -tagfocus, the debug=1 goroutine profile) and, with
// GODEBUG=tracebacklabels=1, goroutine dumps and crash tracebacks show
// them, and so that the live view of the github.com/gowaitgroup/waitgroup/debug
// package can show each task's goroutine. The labels are added to those of
// the group's context (a group made by [WithContext] from a context that
// carries labels keeps them) and replace the labels that the goroutine
// would inherit from the one that called Go. Goroutines that a task starts
// inherit them. Tasks tracked with [Group.Add] have no goroutine of their
// own and are not labelled.
//
// The labels are set on the goroutine, not carried by the task's context,
// which stays [Group.Context]: a task that calls [pprof.Do] with its
// context has, once that call returns, the labels of the group's context
// only.
//
// Labels are off by default because they cost time and memory for every
// task. Measured on a 2-core amd64 machine (BenchmarkGoWaitInterleaved,
// medians of batches of 100 tasks, interleaved with unlabelled ones): a
// task whose group and name (or function) are those of the task labelled
// before it in the same group reuses its labels and costs about 30 ns more
// than an unlabelled one, with no allocation; any other task costs about
// 350 ns, 4 allocations and 200 bytes more, what [pprof.WithLabels] costs.
// A group without the option pays one predictable branch per task, within
// the noise of the measurement.
func Labels() Option {
	return groupOption(func(g *Group) { g.optIn().labels = true })
}

// taskLabels are the labels of one task, kept so that the next task of the
// same group, with the same name, path and function, reuses them.
type taskLabels struct {
	path, name string
	pc         uintptr // the function of an unnamed task; 0 for a named one
	ctx        context.Context
}

// setLabels puts the labels of t on the calling goroutine, t's, if t's
// group has the Labels option. Group.Go's goroutine calls it before t's
// function.
func (d *debugInfo) setLabels(g *Group, t *goTask) {
	if !d.labels {
		return
	}
	path := g.path()
	name := t.name()
	pc := uintptr(0)
	if name == "" {
		pc = t.pc
	}
	l := d.lastLabels.Load()
	if l == nil || l.pc != pc || l.name != name || l.path != path {
		task := name
		if task == "" {
			task = funcLabel(pc)
		}
		l = &taskLabels{path: path, name: name, pc: pc,
			ctx: pprof.WithLabels(&g.c, pprof.Labels(LabelGroup, path, LabelTask, task))}
		d.lastLabels.Store(l)
	}
	pprof.SetGoroutineLabels(l.ctx)
}

// funcLabel names the function at pc as describeFunc does, without the file
// and line, which would cost a formatting for each task.
func funcLabel(pc uintptr) string {
	f := runtime.FuncForPC(pc)
	if f == nil {
		return fmt.Sprintf("func@%#x", pc)
	}
	return funcName(f)
}
