package debug

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// writeText writes v for people: a header, then each group, indented by
// its depth in the tree, with its errors and its tasks, the tasks' columns
// aligned within a group.
func (v *view) writeText(w io.Writer, stacks bool) error {
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintf(tw, "waitgroup live view at %s: %d %s; tasks oldest first, at most %d a group\n",
		v.at.UTC().Format("2006-01-02T15:04:05.000Z07:00"), len(v.Groups), plural(len(v.Groups), "group"), v.n)
	if len(v.Groups) == 0 {
		fmt.Fprintln(tw, "\nno registered group is alive: groups made with waitgroup.Registered() are listed here, with the groups below them")
	}
	for _, g := range v.Groups {
		ind := strings.Repeat("  ", g.Depth)
		if g.Depth == 0 {
			fmt.Fprintln(tw)
		}
		fmt.Fprintf(tw, "%s%s: %d pending", ind, g.Path, g.Pending)
		if len(g.Errors) > 0 {
			fmt.Fprintf(tw, ", %d %s", len(g.Errors), plural(len(g.Errors), "error"))
		}
		if g.MoreGroups > 0 {
			fmt.Fprintf(tw, "; %d more %s below, not shown", g.MoreGroups, plural(g.MoreGroups, "group"))
		}
		fmt.Fprintln(tw)
		ind += "    "
		for _, e := range g.Errors {
			fmt.Fprintf(tw, "%serror: %s\n", ind, oneLine(e))
		}
		for _, t := range g.Tasks {
			fmt.Fprintf(tw, "%s%s\t%s\t%s\n", ind, t.age.Round(time.Millisecond), t.state(), t.describe())
			if stacks {
				t.writeStacks(tw, ind+"    ")
			}
		}
		if g.More > 0 {
			fmt.Fprintf(tw, "%s… and %d more %s\n", ind, g.More, plural(g.More, "task"))
		}
		if stacks && g.unlabelled > 0 {
			fmt.Fprintf(tw, "%sno labelled goroutine for %d %s started by Go: is the group made with waitgroup.Labels()?\n",
				ind, g.unlabelled, plural(g.unlabelled, "task"))
		}
	}
	return tw.Flush()
}

// state is the task's state, with its attempt and next start if it has
// restarts.
func (t *taskView) state() string {
	s := t.State
	if t.Attempt > 0 {
		s += fmt.Sprintf(" (attempt %d)", t.Attempt)
	}
	if t.RestartInSeconds != nil {
		d := time.Duration(*t.RestartInSeconds * float64(time.Second))
		s += fmt.Sprintf(", restarts in %v", d.Round(time.Millisecond))
	}
	return s
}

// describe is the task's ID, name and origin, and its last error.
func (t *taskView) describe() string {
	var b strings.Builder
	b.WriteString(t.ID)
	if t.Name != "" {
		fmt.Fprintf(&b, " %q,", t.Name)
	}
	b.WriteString(" " + t.Where)
	if t.LastError != "" {
		b.WriteString("; last error: " + oneLine(t.LastError))
	}
	return b.String()
}

func (t *taskView) writeStacks(w io.Writer, ind string) {
	if t.seen {
		fmt.Fprintf(w, "%s(its goroutines are shown with the task above of the same name)\n", ind)
		return
	}
	for _, s := range t.Stacks {
		fmt.Fprintf(w, "%s%d %s with its labels:\n", ind, s.Goroutines, plural(s.Goroutines, "goroutine"))
		for _, f := range s.Frames {
			fmt.Fprintf(w, "%s  %s\n", ind, f)
		}
	}
}

// oneLine keeps a multi-line error on its line of the view.
func oneLine(s string) string {
	return strings.ReplaceAll(s, "\n", " | ")
}

func plural(n int, s string) string {
	if n == 1 {
		return s
	}
	return s + "s"
}
