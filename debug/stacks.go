package debug

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"

	"github.com/gowaitgroup/waitgroup"
)

// maxFrames bounds the frames shown of one stack; "…" stands for the rest.
const maxFrames = 32

// A stackIndex holds the goroutines that carry the labels of a task, by
// group path and task label.
type stackIndex struct {
	byTask map[[2]string][]stackView
}

// readStacks reads the debug=1 goroutine profile, which records each
// goroutine's labels (debug=2 shows them only with
// GODEBUG=tracebacklabels=1). Taking it stops the world briefly.
func readStacks() (*stackIndex, error) {
	var b bytes.Buffer
	if err := pprof.Lookup("goroutine").WriteTo(&b, 1); err != nil {
		return nil, err
	}
	return parseProfile(&b)
}

// parseProfile reads a debug=1 goroutine profile: records of
//
//	N @ 0x… 0x…
//	# labels: {"k":"v", "k2":"v2"}
//	#	0x…	pkg.fn+0x…	/path/file.go:12
//
// separated by blank lines, the labels line only if the goroutines have
// labels; the columns are padded with tabs.
func parseProfile(r io.Reader) (*stackIndex, error) {
	ix := &stackIndex{byTask: map[[2]string][]stackView{}}
	var (
		cur    *stackView
		labels map[string]string
	)
	flush := func() {
		if cur == nil {
			return
		}
		if g, ok := labels[waitgroup.LabelGroup]; ok {
			if t, ok := labels[waitgroup.LabelTask]; ok {
				ix.add([2]string{g, t}, *cur)
			}
		}
		cur, labels = nil, nil
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			flush()
		case strings.HasPrefix(line, "# labels: "):
			if cur == nil {
				continue
			}
			var err error
			if labels, err = parseLabels(strings.TrimPrefix(line, "# labels: ")); err != nil {
				return nil, err
			}
		case strings.HasPrefix(line, "#"):
			f := frame(line)
			switch {
			case cur == nil || f == "" || len(cur.Frames) > maxFrames:
			case len(cur.Frames) == maxFrames:
				cur.Frames = append(cur.Frames, "…")
			default:
				cur.Frames = append(cur.Frames, f)
			}
		default:
			count, rest, ok := strings.Cut(line, " @ ")
			n, err := strconv.Atoi(count)
			if !ok || err != nil || !strings.HasPrefix(rest, "0x") {
				continue // the header, "goroutine profile: total N"
			}
			flush()
			cur = &stackView{Goroutines: n, Frames: []string{}}
		}
	}
	flush()
	for _, list := range ix.byTask {
		slices.SortStableFunc(list, func(a, b stackView) int { return b.Goroutines - a.Goroutines })
	}
	return ix, sc.Err()
}

// frame turns "#\t0x…\tpkg.fn+0x1c\t\t/path/file.go:12" into
// "pkg.fn /path/file.go:12", or "" if line is not a frame.
func frame(line string) string {
	f := strings.Fields(line)
	if len(f) < 3 || f[0] != "#" || !strings.HasPrefix(f[1], "0x") {
		return ""
	}
	fn, _, _ := strings.Cut(f[2], "+0x")
	if len(f) == 3 {
		return fn
	}
	return fn + " " + strings.Join(f[3:], " ")
}

// parseLabels reads {"k":"v", "k2":"v2"}, Go-quoted strings.
func parseLabels(s string) (map[string]string, error) {
	bad := func() (map[string]string, error) {
		return nil, fmt.Errorf("debug: unexpected labels in the goroutine profile: %.100s", s)
	}
	s, ok := strings.CutPrefix(s, "{")
	if !ok {
		return bad()
	}
	m := map[string]string{}
	for {
		if rest, ok := strings.CutPrefix(s, "}"); ok && rest == "" {
			return m, nil
		}
		kq, err := strconv.QuotedPrefix(s)
		if err != nil {
			return bad()
		}
		s = s[len(kq):]
		if s, ok = strings.CutPrefix(s, ":"); !ok {
			return bad()
		}
		vq, err := strconv.QuotedPrefix(s)
		if err != nil {
			return bad()
		}
		s = s[len(vq):]
		k, _ := strconv.Unquote(kq)
		v, _ := strconv.Unquote(vq)
		m[k] = v
		s = strings.TrimPrefix(s, ", ")
	}
}

// add records s under k, merged with a stack of the same frames: records
// differ also by the program counters of runtime frames, which are not
// shown.
func (ix *stackIndex) add(k [2]string, s stackView) {
	list := ix.byTask[k]
	for i := range list {
		if slices.Equal(list[i].Frames, s.Frames) {
			list[i].Goroutines += s.Goroutines
			return
		}
	}
	ix.byTask[k] = append(list, s)
}

// lookup returns the stacks of the goroutines labelled with group path and
// task label.
func (ix *stackIndex) lookup(path, task string) []stackView {
	return ix.byTask[[2]string{path, task}]
}
