package debug

import (
	"fmt"
	"strings"
	"time"

	"github.com/gowaitgroup/waitgroup"
)

const (
	// DefaultMax is how many tasks, and how many groups below it, the view
	// shows of each group unless asked otherwise.
	DefaultMax = 10
	// MaxGroups bounds the groups one view shows in all, so that a tree
	// of many groups with many Subs each cannot make a request unbounded.
	MaxGroups = 1000
)

// A view is what one request shows: the JSON of ?format=json and of Var.
type view struct {
	Groups []groupView `json:"groups"`

	at time.Time // when the view was taken
	n  int       // the bound per group
}

type groupView struct {
	Name    string     `json:"name"`
	Path    string     `json:"path"`
	Pending int        `json:"pending"`
	Tasks   []taskView `json:"tasks"`
	More    int        `json:"more"`
	Errors  []string   `json:"errors"`
	// Depth and Parent place the group in the tree: Parent is the index in
	// groups of the group it is shown under, -1 for a top group.
	Depth  int `json:"depth"`
	Parent int `json:"parent"`
	// MoreGroups counts the groups below this one that are not shown.
	MoreGroups int `json:"more_groups"`

	// Stacks that no task of the group claimed: set when stacks were
	// asked for and the group has tasks started by Go without a labelled
	// goroutine.
	unlabelled int
}

type taskView struct {
	Name       string  `json:"name"`
	Where      string  `json:"where"`
	AgeSeconds float64 `json:"age_seconds"`
	State      string  `json:"state"`
	ID         string  `json:"id"`
	// For a task with restarts: its failures in a row, its last error and,
	// in backoff, the time to its next start.
	Attempt          int      `json:"attempt,omitempty"`
	LastError        string   `json:"last_error,omitempty"`
	RestartInSeconds *float64 `json:"restart_in_seconds,omitempty"`
	// With ?stacks=1: the goroutines that carry the task's labels, grouped
	// by stack. Tasks of a group with the same name (or, unnamed, the same
	// function) share their labels, hence these.
	Stacks []stackView `json:"stacks,omitempty"`

	age  time.Duration
	seen bool // the same stacks were shown with an earlier task
}

type stackView struct {
	Goroutines int      `json:"goroutines"`
	Frames     []string `json:"frames"`
}

// collect takes the view of the registered groups at now, n tasks and
// groups a group at most (n >= 0), with the stacks of st if it is not nil.
func collect(now time.Time, n int, st *stackIndex) *view {
	v := &view{Groups: []groupView{}, at: now, n: n}
	regs := waitgroup.RegisteredGroups()

	// One snapshot per group; first find which registered groups are below
	// another, so that they are shown there rather than at the top.
	snaps := map[*waitgroup.Group]*waitgroup.GroupSnapshot{}
	snap := func(g *waitgroup.Group) *waitgroup.GroupSnapshot {
		s, ok := snaps[g]
		if !ok {
			x := g.Snapshot(n)
			s = &x
			snaps[g] = s
		}
		return s
	}
	below := map[*waitgroup.Group]bool{}
	var stack []*waitgroup.Group
	for _, r := range regs {
		stack = append(stack[:0], r)
		for len(stack) > 0 && len(snaps) < MaxGroups {
			g := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if _, done := snaps[g]; done && g != r {
				continue
			}
			for _, c := range snap(g).Children {
				below[c] = true
				stack = append(stack, c)
			}
		}
	}

	// Then show each tree, depth first, each group once.
	shown := map[*waitgroup.Group]bool{}
	type item struct {
		g      *waitgroup.Group
		depth  int
		parent int
	}
	var work []item
	for _, r := range regs {
		if below[r] || shown[r] {
			continue
		}
		work = append(work[:0], item{r, 0, -1})
		for len(work) > 0 {
			it := work[len(work)-1]
			work = work[:len(work)-1]
			if shown[it.g] {
				continue
			}
			if len(v.Groups) == MaxGroups {
				if it.parent >= 0 {
					v.Groups[it.parent].MoreGroups++
				}
				continue
			}
			shown[it.g] = true
			s := snap(it.g)
			idx := len(v.Groups)
			v.Groups = append(v.Groups, v.group(s, it.depth, it.parent, st))
			v.Groups[idx].MoreGroups = s.MoreChildren
			for i := len(s.Children) - 1; i >= 0; i-- {
				work = append(work, item{s.Children[i], it.depth + 1, idx})
			}
		}
	}
	return v
}

// group describes s for the view.
func (v *view) group(s *waitgroup.GroupSnapshot, depth, parent int, st *stackIndex) groupView {
	gv := groupView{
		Name: s.Name, Path: s.Path, Pending: s.Pending, More: s.More,
		Tasks: make([]taskView, 0, len(s.Tasks)), Errors: make([]string, 0, len(s.Errors)),
		Depth: depth, Parent: parent,
	}
	for _, err := range s.Errors {
		gv.Errors = append(gv.Errors, errorString(err))
	}
	claimed := map[string]bool{}
	for _, t := range s.Tasks {
		tv := taskView{
			Name: t.Name, Where: t.Where, State: t.State.String(), ID: t.ID.String(),
			age: v.at.Sub(t.Since), Attempt: t.Attempt,
		}
		tv.AgeSeconds = tv.age.Seconds()
		if t.LastErr != nil {
			tv.LastError = errorString(t.LastErr)
		}
		if t.State == waitgroup.TaskBackoff && !t.NextStart.IsZero() {
			in := t.NextStart.Sub(v.at).Seconds()
			tv.RestartInSeconds = &in
		}
		if st != nil && startedByGo(t) {
			label := taskLabel(t)
			tv.Stacks = st.lookup(s.Path, label)
			switch {
			case len(tv.Stacks) == 0:
				gv.unlabelled++
			case claimed[label]:
				tv.seen = true
			}
			claimed[label] = true
		}
		gv.Tasks = append(gv.Tasks, tv)
	}
	return gv
}

// startedByGo reports whether t is a task started by Go, which has a
// goroutine, rather than an ID of Add, whose Where is "Add at file:line".
func startedByGo(t waitgroup.TaskInfo) bool {
	return !strings.HasPrefix(t.Where, "Add at ") && !strings.HasPrefix(t.Where, "Add@")
}

// taskLabel is the value of waitgroup.LabelTask on t's goroutine: its name,
// or its function, which is its Where without the file and line.
func taskLabel(t waitgroup.TaskInfo) string {
	if t.Name != "" {
		return t.Name
	}
	fn, _, _ := strings.Cut(t.Where, " (")
	return fn
}

// errorString is err.Error(), or what its panic said: a view must not fail
// because of a task's error.
func errorString(err error) (s string) {
	defer func() {
		if v := recover(); v != nil {
			s = fmt.Sprintf("(panic in Error: %v)", v)
		}
	}()
	return err.Error()
}
