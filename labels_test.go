package waitgroup_test

import (
	"bufio"
	"context"
	"fmt"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gowaitgroup/waitgroup"
)

// A profRecord is one entry of the debug=1 goroutine profile: goroutines
// with the same stack and labels.
type profRecord struct {
	labels string   // the "# labels: {...}" text, or ""
	funcs  []string // the functions of the stack, innermost first
}

func goroutineRecords(t *testing.T) []profRecord {
	t.Helper()
	var b strings.Builder
	if err := pprof.Lookup("goroutine").WriteTo(&b, 1); err != nil {
		t.Fatal(err)
	}
	var out []profRecord
	sc := bufio.NewScanner(strings.NewReader(b.String()))
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.Contains(line, " @ 0x"):
			out = append(out, profRecord{})
		case len(out) == 0:
		case strings.HasPrefix(line, "# labels: "):
			out[len(out)-1].labels = strings.TrimPrefix(line, "# labels: ")
		case strings.HasPrefix(line, "#\t"):
			if f := strings.Fields(line); len(f) >= 3 {
				fn, _, _ := strings.Cut(f[2], "+0x")
				out[len(out)-1].funcs = append(out[len(out)-1].funcs, fn)
			}
		}
	}
	return out
}

// labelsOf returns the labels of the goroutines whose stack has fn.
func labelsOf(recs []profRecord, fn string) []string {
	var out []string
	for _, r := range recs {
		for _, f := range r.funcs {
			if strings.HasSuffix(f, fn) {
				out = append(out, r.labels)
				break
			}
		}
	}
	return out
}

// Each task blocks in a function of its own, by which its goroutine is found
// in the profile, once it has said that it runs.
type starter struct{ started sync.WaitGroup }

func (s *starter) labelledNamed(ctx context.Context) error {
	s.started.Done()
	<-ctx.Done()
	return nil
}

func (s *starter) labelledUnnamed(ctx context.Context) error {
	s.started.Done()
	<-ctx.Done()
	return nil
}

func (s *starter) labelledOther(ctx context.Context) error {
	s.started.Done()
	<-ctx.Done()
	return nil
}

func (s *starter) unlabelledTask(ctx context.Context) error {
	s.started.Done()
	<-ctx.Done()
	return nil
}

type pprofKey struct{}

func TestLabelsOnTaskGoroutines(t *testing.T) {
	base := pprof.WithLabels(context.WithValue(context.Background(), pprofKey{}, 1), pprof.Labels("tenant", "t1"))
	svc := waitgroup.WithContext(base, waitgroup.GroupName("svc"), waitgroup.Labels())
	workers := svc.Sub(waitgroup.GroupName("workers"), waitgroup.Labels())
	plain := svc.Sub(waitgroup.GroupName("plain"))
	var s starter
	// One task at a time, so that they are labelled in this order.
	start := func(g *waitgroup.Group, f func(context.Context) error, opts ...waitgroup.TaskOption) {
		s.started.Add(1)
		g.Go(f, opts...)
		s.started.Wait()
	}
	// Alternate names and functions, so that the reuse of the last labels
	// is exercised and must not mix them up.
	start(workers, s.labelledNamed, waitgroup.Name("worker"))
	start(workers, s.labelledUnnamed)
	start(workers, s.labelledOther)
	start(workers, s.labelledUnnamed)
	start(workers, s.labelledNamed, waitgroup.Name("worker"))
	start(workers, s.labelledNamed, waitgroup.Name("helper"))
	start(svc, func(ctx context.Context) error {
		if ctx != svc.Context() {
			t.Error("a labelled task's context is not the group's context")
		}
		s.started.Done()
		return nil
	}, waitgroup.Name("ctx check"))
	start(plain, s.unlabelledTask)

	recs := goroutineRecords(t)
	wantLabels := func(task string) string {
		return fmt.Sprintf(`{"tenant":"t1", "waitgroup.group":"svc/workers", "waitgroup.task":%q}`, task)
	}
	for _, tc := range []struct {
		fn   string
		want []string
	}{
		{".labelledNamed", []string{wantLabels("helper"), wantLabels("worker")}},
		{".labelledUnnamed", []string{wantLabels("waitgroup_test.(*starter).labelledUnnamed")}},
		{".labelledOther", []string{wantLabels("waitgroup_test.(*starter).labelledOther")}},
		{".unlabelledTask", []string{""}},
	} {
		got := labelsOf(recs, tc.fn)
		slices.Sort(got)
		if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
			t.Errorf("goroutines of %s have labels %q, want %q", tc.fn, got, tc.want)
		}
	}

	// The task label of an unnamed task is its Where without file and line.
	for _, p := range workers.Pending() {
		if p.Name == "" && !strings.HasPrefix(p.Where, "waitgroup_test.(*starter).labelled") {
			t.Errorf("Where %q does not start with the task's label", p.Where)
		}
	}

	svc.Cancel(nil)
	if err := svc.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// The variants of the label benchmarks:
//
//   - none: a plain group, the path every group without the options takes
//   - registered: Registered only, which costs nothing per task
//   - labels/shared: Labels, every task with the same name, which reuses
//     the labels of the one before
//   - labels/unique: Labels, every task with a name of its own
var labelVariants = []struct {
	name   string
	opts   []waitgroup.Option
	unique bool
}{
	{"none", nil, false},
	{"registered", []waitgroup.Option{waitgroup.Registered()}, false},
	{"labels/shared", []waitgroup.Option{waitgroup.Labels()}, false},
	{"labels/unique", []waitgroup.Option{waitgroup.Labels()}, true},
}

// labelBatch starts n tasks in g, named by names if unique, and waits.
type labelBatch struct {
	g      *waitgroup.Group
	unique bool
	names  []waitgroup.TaskOption
}

var sharedName = waitgroup.Name("task")

func (lb labelBatch) run(b *testing.B) {
	for i := range lb.names {
		name := sharedName
		if lb.unique {
			name = lb.names[i]
		}
		lb.g.Go(nop, name)
	}
	if err := lb.g.Wait(context.Background()); err != nil {
		b.Fatal(err)
	}
}

func labelBatches(n int) []labelBatch {
	names := make([]waitgroup.TaskOption, n)
	for i := range names {
		names[i] = waitgroup.Name(fmt.Sprintf("task %d", i))
	}
	var out []labelBatch
	for _, v := range labelVariants {
		g := waitgroup.New(append([]waitgroup.Option{waitgroup.GroupName("bench")}, v.opts...)...)
		out = append(out, labelBatch{g: g, unique: v.unique, names: names})
	}
	return out
}

// BenchmarkGoWaitLabels starts 100 tasks in a group and waits for them, for
// each variant apart, with their allocations; ns/task is the cost per task.
func BenchmarkGoWaitLabels(b *testing.B) {
	const n = 100
	for i, lb := range labelBatches(n) {
		b.Run("opt="+labelVariants[i].name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				lb.run(b)
			}
			reportPerTask(b, n)
		})
	}
}

// BenchmarkGoWaitInterleaved runs a batch of 100 tasks of each variant in
// every iteration, one after the other, and reports for each variant the
// median time per task over the batches (none-ns/task,
// labels/shared-ns/task, …) and its difference from none (…-extra-ns/task):
// on a shared machine, variants measured in separate runs drift apart more
// than the costs compared, and a median ignores the batches that another
// process interrupted.
func BenchmarkGoWaitInterleaved(b *testing.B) {
	const n = 100
	batches := labelBatches(n)
	samples := make([][]time.Duration, len(batches))
	for b.Loop() {
		for i, lb := range batches {
			start := time.Now()
			lb.run(b)
			samples[i] = append(samples[i], time.Since(start))
		}
	}
	median := func(d []time.Duration) float64 {
		slices.Sort(d)
		return float64(d[len(d)/2].Nanoseconds()) / n
	}
	none := median(samples[0])
	for i, v := range labelVariants {
		m := median(samples[i])
		b.ReportMetric(m, v.name+"-ns/task")
		if i > 0 {
			b.ReportMetric(m-none, v.name+"-extra-ns/task")
		}
	}
	b.ReportMetric(0, "ns/op") // the sum of the variants says nothing
}
