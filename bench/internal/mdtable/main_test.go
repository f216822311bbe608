package main

import (
	"strings"
	"testing"
)

const sample = `BenchmarkAddDone/peer=sync-2      	1000	 8.00 ns/op	 0 B/op	 0 allocs/op
BenchmarkAddDone/peer=sync-2      	1000	 10.00 ns/op	 0 B/op	 0 allocs/op
BenchmarkAddDone/peer=sync-2      	1000	 9.00 ns/op	 0 B/op	 0 allocs/op
BenchmarkAddDone/peer=waitgroup-2 	1000	 45.00 ns/op	 0 B/op	 0 allocs/op
BenchmarkAddDone/peer=tomb
    bench_test.go:1: cannot: tomb has no Add
--- SKIP: BenchmarkAddDone/peer=tomb
BenchmarkGoWait/n=1/peer=sync-2   	1000	 400 ns/op	 400 ns/task
`

func TestTable(t *testing.T) {
	tables, order, err := parse(strings.NewReader(sample))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(order, ","); got != "AddDone,GoWait" {
		t.Fatalf("workloads %s, want AddDone,GoWait", got)
	}
	var b strings.Builder
	printTable(&b, "AddDone", tables["AddDone"])
	out := b.String()
	for _, want := range []string{
		"| AddDone | sync | waitgroup | tomb |",
		"| - | 9.00 (1.00×) | 45.0 (5.00×) | cannot |", // median of 8, 10, 9 is 9
	} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	if got := tables["GoWait"].rows; len(got) != 1 || got[0] != "n=1" {
		t.Errorf("GoWait rows %q, want [n=1]", got)
	}
}
