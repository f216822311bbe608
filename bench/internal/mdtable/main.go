// Command mdtable reads the output of go test -bench -v on stdin and prints,
// for each workload and unit, a markdown table of the medians with one
// column per peer and the ratio of each median to the baseline's, peer=sync.
// A peer that skipped a workload with a "cannot: ..." message shows as
// "cannot".
//
// Benchmark names have the form Benchmark<Workload>[/<param>...]/peer=<peer>.
package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// baseline is the peer every ratio is relative to.
const baseline = "sync"

// units lists, per workload, the units to tabulate, in order; a workload
// not listed gets every unit it reports.
var units = map[string][]string{
	"GoWait":          {"ns/task", "allocs/op"},
	"GoWaitErr":       {"ns/task", "allocs/op"},
	"AddDone":         {"ns/op", "allocs/op"},
	"AddDoneParallel": {"ns/op", "allocs/op"},
	"Wake":            {"ns/wake", "ns/op"},
	"TimedOutWait":    {"goroutines/op", "ns/op"},
	"PendingHeap":     {"heap-B/task", "stack-B/task"},
	"Map":             {"ns/item", "allocs/op"},
	"MapLimit":        {"ns/item", "allocs/op"},
	"MapSeq":          {"ns/item", "allocs/op"},
	"MapSeqHeap":      {"live-B"},
}

var (
	resultLine = regexp.MustCompile(`^Benchmark(\S+?)(?:-\d+)?\s+\d+\s+(.*)$`)
	skipLine   = regexp.MustCompile(`^--- SKIP: Benchmark(\S+)$`)
	cannotLine = regexp.MustCompile(`cannot: `)
)

// A name is a benchmark name split into workload, row and peer.
type name struct{ workload, row, peer string }

func parseName(s string) (name, bool) {
	parts := strings.Split(s, "/")
	var n name
	var rest []string
	for _, p := range parts[1:] {
		if v, ok := strings.CutPrefix(p, "peer="); ok {
			n.peer = v
		} else {
			rest = append(rest, p)
		}
	}
	if n.peer == "" {
		return n, false
	}
	n.workload = parts[0]
	n.row = strings.Join(rest, "/")
	if n.row == "" {
		n.row = "-"
	}
	return n, true
}

type table struct {
	rows, peers, units []string                      // in order of first appearance
	values             map[name]map[string][]float64 // unit -> samples
	skipped            map[name]bool
}

func main() {
	tables, order, err := parse(os.Stdin)
	if err != nil {
		fmt.Fprintln(os.Stderr, "mdtable:", err)
		os.Exit(1)
	}
	for _, w := range order {
		printTable(os.Stdout, w, tables[w])
	}
}

func parse(r io.Reader) (map[string]*table, []string, error) {
	tables := map[string]*table{}
	var order []string
	get := func(n name) *table {
		t := tables[n.workload]
		if t == nil {
			t = &table{values: map[name]map[string][]float64{}, skipped: map[name]bool{}}
			tables[n.workload] = t
			order = append(order, n.workload)
		}
		if !slices.Contains(t.rows, n.row) {
			t.rows = append(t.rows, n.row)
		}
		if !slices.Contains(t.peers, n.peer) {
			t.peers = append(t.peers, n.peer)
		}
		return t
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, 1<<20)
	cannot := false // the last log line said why the next skip happens
	for sc.Scan() {
		line := sc.Text()
		if m := skipLine.FindStringSubmatch(line); m != nil {
			if n, ok := parseName(m[1]); ok && cannot {
				get(n).skipped[n] = true
			}
			cannot = false
			continue
		}
		if cannotLine.MatchString(line) {
			cannot = true
			continue
		}
		m := resultLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		n, ok := parseName(m[1])
		if !ok {
			continue
		}
		t := get(n)
		f := strings.Fields(m[2])
		for i := 0; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				return nil, nil, fmt.Errorf("%q: %v", line, err)
			}
			u := f[i+1]
			if !slices.Contains(t.units, u) {
				t.units = append(t.units, u)
			}
			if t.values[n] == nil {
				t.values[n] = map[string][]float64{}
			}
			t.values[n][u] = append(t.values[n][u], v)
		}
	}
	return tables, order, sc.Err()
}

func printTable(w io.Writer, workload string, t *table) {
	us := units[workload]
	if us == nil {
		us = t.units
	}
	for _, u := range us {
		if !slices.Contains(t.units, u) {
			continue
		}
		fmt.Fprintf(w, "%s, %s (median of runs; ratio to peer=%s)\n\n", workload, u, baseline)
		fmt.Fprintf(w, "| %s |", workload)
		for _, p := range t.peers {
			fmt.Fprintf(w, " %s |", p)
		}
		fmt.Fprintf(w, "\n|---|%s\n", strings.Repeat("---:|", len(t.peers)))
		for _, r := range t.rows {
			fmt.Fprintf(w, "| %s |", r)
			base, hasBase := median(t.values[name{workload, r, baseline}][u])
			for _, p := range t.peers {
				n := name{workload, r, p}
				v, ok := median(t.values[n][u])
				switch {
				case t.skipped[n]:
					fmt.Fprint(w, " cannot |")
				case !ok:
					fmt.Fprint(w, " |")
				case hasBase && base != 0:
					fmt.Fprintf(w, " %s (%s×) |", format(v), format(v/base))
				default:
					fmt.Fprintf(w, " %s |", format(v))
				}
			}
			fmt.Fprintln(w)
		}
		fmt.Fprintln(w)
	}
}

func median(xs []float64) (float64, bool) {
	if len(xs) == 0 {
		return 0, false
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2], true
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2, true
}

// format prints three significant digits at most, without exponents.
func format(v float64) string {
	a := v
	if a < 0 {
		a = -a
	}
	switch {
	case a == 0:
		return "0"
	case a >= 100:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case a >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	case a >= 1:
		return strconv.FormatFloat(v, 'f', 2, 64)
	case a >= 0.01:
		return strconv.FormatFloat(v, 'f', 3, 64)
	default:
		return "≈0"
	}
}
