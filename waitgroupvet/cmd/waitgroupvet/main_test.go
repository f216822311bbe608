package main_test

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// misses holds the mistakes that go vet and staticcheck miss (issue 11),
// one finding per marked line.
const misses = `package misses

import (
	"context"
	"sync"

	"github.com/gowaitgroup/waitgroup"
	"golang.org/x/sync/errgroup"
)

func fetch(ctx context.Context) error { return ctx.Err() }

func addSecond() {
	var wg sync.WaitGroup
	go func() {
		println("start")
		wg.Add(1) // MISS addingo
		defer wg.Done()
	}()
	wg.Wait()
}

func worker(wg *sync.WaitGroup) {
	wg.Add(1) // MISS addingo
	defer wg.Done()
}

func addInWorker() {
	var wg sync.WaitGroup
	go worker(&wg)
	wg.Wait()
}

func derivedDiscarded(ctx context.Context) error {
	g, _ := errgroup.WithContext(ctx)
	g.Go(func() error { return fetch(ctx) }) // MISS taskctx
	return g.Wait()
}

func ctxAfterWait(ctx context.Context) error {
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return fetch(gctx) })
	if err := g.Wait(); err != nil {
		return err
	}
	return fetch(gctx) // MISS ctxafterwait
}

func goWithoutWait() {
	var g errgroup.Group
	g.Go(func() error { return nil }) // MISS nowait
}

func waitInOwnTask(ctx context.Context) error {
	g := waitgroup.New()
	g.Go(func(ctx context.Context) error { return g.Wait(ctx) }) // MISS selfwait
	return g.Wait(ctx)
}

func blankTaskCtx(ctx context.Context) error {
	g := waitgroup.WithContext(ctx) // MISS groupleak
	g.Go(func(_ context.Context) error { return fetch(ctx) }) // MISS taskctx
	g.Add() // MISS lostid
	return g.Wait(ctx)
}
`

// clean is correct code, with one sync.WaitGroup that the opt-in migrate
// check offers to rewrite.
const clean = `package clean

import (
	"context"
	"sync"

	"github.com/gowaitgroup/waitgroup"
)

func fanOut(ctx context.Context, items []int) error {
	g := waitgroup.WithContext(ctx, waitgroup.CancelOnError())
	defer g.Cancel(nil)
	for range items {
		g.Go(func(ctx context.Context) error { return ctx.Err() })
	}
	return g.Wait(ctx)
}

func each(items []int) {
	var wg sync.WaitGroup // MIGRATE
	for range items {
		wg.Add(1)
		go func() {
			defer wg.Done()
		}()
	}
	wg.Wait()
}
`

// TestCommand builds waitgroupvet and runs it standalone and as go vet's
// tool on a module that uses stubs of waitgroup and errgroup.
func TestCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the command")
	}
	gotool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command in PATH")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "waitgroupvet")
	build := exec.Command(gotool, "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	mod := filepath.Join(dir, "mod")
	stubs := filepath.Join("..", "..", "testdata", "src")
	files := map[string]string{
		"go.mod": "module example.com/misses\n\ngo 1.25\n\nrequire (\n\tgithub.com/gowaitgroup/waitgroup v0.0.0\n\tgolang.org/x/sync v0.0.0\n)\n\n" +
			"replace github.com/gowaitgroup/waitgroup => ./stubs/waitgroup\n\nreplace golang.org/x/sync => ./stubs/sync\n",
		"misses/misses.go":                misses,
		"clean/clean.go":                  clean,
		"stubs/waitgroup/go.mod":          "module github.com/gowaitgroup/waitgroup\n\ngo 1.25\n",
		"stubs/waitgroup/waitgroup.go":    read(t, filepath.Join(stubs, "github.com/gowaitgroup/waitgroup/waitgroup.go")),
		"stubs/sync/go.mod":               "module golang.org/x/sync\n\ngo 1.25\n",
		"stubs/sync/errgroup/errgroup.go": read(t, filepath.Join(stubs, "golang.org/x/sync/errgroup/errgroup.go")),
	}
	for name, text := range files {
		path := filepath.Join(mod, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	run := func(name string, args ...string) (string, int) {
		t.Helper()
		cmd := exec.Command(name, args...)
		cmd.Dir = mod
		cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off", "GOTOOLCHAIN=local")
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		var exit *exec.ExitError
		if err != nil && !errors.As(err, &exit) {
			t.Fatalf("%s %v: %v", name, args, err)
		}
		return out.String(), cmd.ProcessState.ExitCode()
	}

	tests := []struct {
		name     string
		cmd      []string
		src      string // the file whose marked lines must be reported
		marker   string
		wantExit bool // a non-zero exit
	}{
		{"standalone finds", []string{bin, "./misses"}, misses, "// MISS", true},
		{"vet tool finds", []string{gotool, "vet", "-vettool=" + bin, "./misses"}, misses, "// MISS", true},
		{"standalone clean", []string{bin, "./clean"}, clean, "// NONE", false},
		{"vet tool clean", []string{gotool, "vet", "-vettool=" + bin, "./clean"}, clean, "// NONE", false},
		{"standalone migrate", []string{bin, "-migrate", "./clean"}, clean, "// MIGRATE", true},
		{"vet tool migrate", []string{gotool, "vet", "-vettool=" + bin, "-migrate", "./clean"}, clean, "// MIGRATE", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, code := run(tt.cmd[0], tt.cmd[1:]...)
			if (code != 0) != tt.wantExit {
				t.Errorf("exit code %d, want non-zero: %v\n%s", code, tt.wantExit, out)
			}
			// Every finding is file:line:col: message, on a marked line,
			// and every marked line has as many findings as markers.
			want := make(map[int]int)
			for i, line := range strings.Split(tt.src, "\n") {
				want[i+1] = strings.Count(line, tt.marker)
			}
			finding := regexp.MustCompile(`(?m)^\S*\.go:(\d+):(\d+): (.+)$`)
			got := make(map[int]int)
			for _, m := range finding.FindAllStringSubmatch(out, -1) {
				line, _ := strconv.Atoi(m[1])
				got[line]++
			}
			for line, n := range want {
				if got[line] != n {
					t.Errorf("line %d: %d findings, want %d\n%s", line, got[line], n, out)
				}
			}
			for line := range got {
				if want[line] == 0 {
					t.Errorf("line %d: unexpected finding\n%s", line, out)
				}
			}
		})
	}
}

func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
