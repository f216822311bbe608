package waitgrouptest

import (
	"bytes"
	"context"
	"fmt"
	"runtime"
	"runtime/pprof"
	"strings"
	"sync/atomic"
	"testing/synctest"
	"time"
)

// How a Service finds the goroutines it started: every call into the service
// (Start, Close, run) runs under a profiler label unique to the Service, and
// the runtime copies a goroutine's labels to each goroutine it creates. The
// goroutine profile lists the labels of every live goroutine, so the
// goroutines of the service are those that carry its label, however deep
// they descend from the call and whether or not their parents still live.
// Unlike a before/after diff of runtime.Stack, this ignores goroutines of
// tests running in parallel, and it needs no list of goroutines to ignore.
//
// What escapes it: a goroutine that the service starts from a goroutine it
// did not start (a timer's func, a callback run by another package's
// goroutine), and one started under labels that the service set from a
// context without ours (pprof.Do or SetGoroutineLabels with a context that
// does not derive from the one Run passes).

// labelKey is the profiler label that marks a service's goroutines.
const labelKey = "waitgrouptest.service"

var lastLabel atomic.Int64

// tracker marks and finds the goroutines of one service.
type tracker struct {
	labels pprof.LabelSet
	needle string // the label as the goroutine profile prints it
}

func newTracker() *tracker {
	v := fmt.Sprint(lastLabel.Add(1))
	return &tracker{
		labels: pprof.Labels(labelKey, v),
		needle: fmt.Sprintf("%q:%q", labelKey, v),
	}
}

// do calls f with the service's label on the current goroutine, so that the
// goroutines f starts carry it. The label is removed when f returns.
func (tr *tracker) do(f func()) {
	pprof.Do(context.Background(), tr.labels, func(context.Context) { f() })
}

// ownPkg prefixes the names of this package's functions.
const ownPkg = "github.com/gowaitgroup/waitgroup/waitgrouptest."

// A stack is a group of live goroutines with the same stack.
type stack struct {
	count  int
	frames []string // "function\n\tfile:line", innermost first
}

// goroutines returns the live goroutines that carry the service's label.
func (tr *tracker) goroutines() []stack {
	var buf bytes.Buffer
	// debug=1 is the only stable text form that prints labels; it groups
	// goroutines by stack and hides the runtime frames of blocked ones.
	if err := pprof.Lookup("goroutine").WriteTo(&buf, 1); err != nil {
		return []stack{{count: 1, frames: []string{"goroutine profile failed: " + err.Error()}}}
	}
	var out []stack
	for block := range strings.SplitSeq(buf.String(), "\n\n") {
		lines := strings.Split(block, "\n")
		var s stack
		mine, own := false, false
		for _, line := range lines {
			switch {
			case strings.HasPrefix(line, "# labels: "):
				mine = strings.Contains(line, tr.needle)
			case strings.HasPrefix(line, "#\t"):
				f := frame(line)
				if strings.HasPrefix(f, ownPkg) {
					// The frames from here down are this package
					// calling into the service: noise in a report.
					own = true
				}
				if f != "" && !own {
					s.frames = append(s.frames, f)
				}
			default:
				// "N @ 0x... 0x...": the count of goroutines with this stack.
				if n, _, ok := strings.Cut(line, " @ "); ok {
					fmt.Sscan(n, &s.count)
				}
			}
		}
		if mine && s.count > 0 && !permanent(s) {
			out = append(out, s)
		}
	}
	return out
}

// frame turns "#\t0x4f1c84\tpkg.f+0x24\t/path/f.go:40" into
// "pkg.f\n\t/path/f.go:40".
func frame(line string) string {
	var fields []string
	for f := range strings.SplitSeq(line, "\t") {
		if f != "" && f != "#" {
			fields = append(fields, f)
		}
	}
	if len(fields) < 3 {
		return ""
	}
	fn := fields[1]
	if i := strings.LastIndex(fn, "+0x"); i > 0 {
		fn = fn[:i]
	}
	return fn + "\n\t" + fields[2]
}

// permanent reports whether s is a goroutine that the standard library starts
// once per process and keeps for good, such as the one os/signal starts on
// the first Notify: it is not the service's to stop.
func permanent(s stack) bool {
	for _, f := range s.frames {
		if strings.HasPrefix(f, "os/signal.loop\n") || strings.HasPrefix(f, "os/signal.signal_recv\n") {
			return true
		}
	}
	return false
}

// wait waits until the service's goroutines have all exited or deadline
// passes, and returns those still alive.
//
// Inside a synctest bubble it does not poll: synctest.Wait returns when every
// other goroutine of the bubble has exited or is durably blocked, which is
// the earliest moment the answer is known; if some are left, it lets the
// fake clock run to the deadline (so that goroutines that end on a timer are
// given the same time as outside) and looks once more. Outside a bubble the
// runtime offers no event for a goroutine's exit, and a goroutine outlives
// the Done or channel close that lets its parent return by a moment, so it
// polls, backing off, until the deadline.
func (tr *tracker) wait(deadline time.Time) []stack {
	if inBubble() {
		synctest.Wait()
		left := tr.goroutines()
		if len(left) == 0 {
			return nil
		}
		if d := time.Until(deadline); d > 0 {
			time.Sleep(d)
			synctest.Wait()
		}
		return tr.goroutines()
	}
	backoff := 100 * time.Microsecond
	for {
		left := tr.goroutines()
		d := time.Until(deadline)
		if len(left) == 0 || d <= 0 {
			return left
		}
		time.Sleep(min(backoff, d))
		backoff = min(2*backoff, 50*time.Millisecond)
	}
}

// inBubble reports whether the calling goroutine runs in a synctest bubble,
// which the runtime writes in its traceback header.
func inBubble() bool {
	buf := make([]byte, 200)
	n := runtime.Stack(buf, false)
	header, _, _ := strings.Cut(string(buf[:n]), "\n")
	return strings.Contains(header, ", synctest bubble ")
}

// stackList formats stacks for a failure message.
func stackList(stacks []stack) string {
	var b strings.Builder
	for _, s := range stacks {
		fmt.Fprintf(&b, "\n\t%d %s:", s.count, plural(s.count, "goroutine"))
		for _, f := range s.frames {
			b.WriteString("\n\t\t")
			b.WriteString(strings.ReplaceAll(f, "\n", "\n\t\t"))
		}
	}
	return b.String()
}

func countGoroutines(stacks []stack) int {
	n := 0
	for _, s := range stacks {
		n += s.count
	}
	return n
}
