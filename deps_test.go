package waitgroup_test

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestLibraryImportsOnlyStd backs the table's "Zero dependencies" row: the
// module requires nothing but goleak, which only tests import, and the
// library's packages import only the standard library and each other.
func TestLibraryImportsOnlyStd(t *testing.T) {
	mod, err := os.ReadFile("go.mod")
	if err != nil {
		t.Fatal(err)
	}
	const self = "github.com/gowaitgroup/waitgroup"
	const testOnly = "go.uber.org/goleak"
	if !strings.HasPrefix(string(mod), "module "+self+"\n") {
		t.Fatalf("go.mod does not declare module %s", self)
	}
	if reqs := requires(string(mod)); !slices.Equal(reqs, []string{testOnly}) {
		t.Errorf("go.mod requires %q, want only %s", reqs, testOnly)
	}
	fset := token.NewFileSet()
	files := 0
	err = filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path == "." {
				return nil
			}
			if strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata" {
				return filepath.SkipDir
			}
			if _, err := os.Stat(filepath.Join(path, "go.mod")); err == nil {
				return filepath.SkipDir // a module of its own, such as bench
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		files++
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			first, _, _ := strings.Cut(p, "/")
			if p != self && !strings.HasPrefix(p, self+"/") && strings.Contains(first, ".") {
				t.Errorf("%s imports %s, which is neither the standard library nor this module", path, p)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 10 {
		t.Fatalf("checked only %d Go files; is the test running in the module root?", files)
	}
}

// requires returns the module paths that a go.mod requires.
func requires(gomod string) []string {
	var out []string
	block := false
	for line := range strings.SplitSeq(gomod, "\n") {
		line, _, _ = strings.Cut(line, "//")
		fields := strings.Fields(line)
		switch {
		case len(fields) == 0:
		case block && fields[0] == ")":
			block = false
		case block:
			out = append(out, fields[0])
		case fields[0] == "require" && len(fields) > 1 && fields[1] == "(":
			block = true
		case fields[0] == "require" && len(fields) > 1:
			out = append(out, fields[1])
		}
	}
	return out
}
