package waitgroup

import (
	"context"
	"fmt"
	"reflect"
	"runtime/pprof"
	"testing"
)

// BenchmarkSetLabels measures what Labels adds to a task, without the rest
// of a task's cost: the labels of a task whose group and name are those of
// the task before it (shared), and of a task with a name of its own
// (unique).
func BenchmarkSetLabels(b *testing.B) {
	g := New(GroupName("bench"), Labels())
	names := make([]string, 1024)
	for i := range names {
		names[i] = fmt.Sprintf("task %d", i)
	}
	defer pprof.SetGoroutineLabels(context.Background())
	b.Run("labels=shared", func(b *testing.B) {
		b.ReportAllocs()
		t := &goTask{meta: &taskMeta{name: "task"}}
		for b.Loop() {
			g.debug().setLabels(g, t)
		}
	})
	b.Run("labels=unique", func(b *testing.B) {
		b.ReportAllocs()
		tasks := make([]goTask, len(names))
		for i := range tasks {
			tasks[i] = goTask{meta: &taskMeta{name: names[i]}}
		}
		i := 0
		for b.Loop() {
			g.debug().setLabels(g, &tasks[i%len(tasks)])
			i++
		}
	})
	b.Run("labels=unnamed", func(b *testing.B) {
		b.ReportAllocs()
		pcs := []uintptr{reflect.ValueOf(BenchmarkSetLabels).Pointer(), reflect.ValueOf(New).Pointer()}
		tasks := []goTask{{pc: pcs[0]}, {pc: pcs[1]}}
		i := 0
		for b.Loop() {
			g.debug().setLabels(g, &tasks[i%2]) // alternate: never the last labels
			i++
		}
	})
}
