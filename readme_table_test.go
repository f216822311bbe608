package waitgroup_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// The README's comparison table is a claim about other libraries at given
// releases and about this one. These tests keep the parts of it that code
// can check honest: each peer column says which release it describes, and
// each ✅ of ours names a test that exists.

// compareTable is the README's "How it compares" table, split into cells.
type compareTable struct {
	header []string
	rows   [][]string
}

// readCompareTable parses the first table of the README section headed
// "## How it compares".
func readCompareTable(readme string) (compareTable, error) {
	_, section, ok := strings.Cut(readme, "\n## How it compares\n")
	if !ok {
		return compareTable{}, errors.New("README has no \"How it compares\" section")
	}
	section, _, _ = strings.Cut(section, "\n## ")
	var lines []string
	for line := range strings.SplitSeq(section, "\n") {
		if strings.HasPrefix(line, "|") {
			lines = append(lines, line)
		} else if len(lines) > 0 {
			break // the first table only
		}
	}
	if len(lines) < 3 {
		return compareTable{}, errors.New("the How it compares section has no table")
	}
	var t compareTable
	t.header = cells(lines[0])
	for _, line := range lines[2:] { // lines[1] is the |---| separator
		t.rows = append(t.rows, cells(line))
	}
	return t, nil
}

// cells splits a Markdown table row into its trimmed cells.
func cells(line string) []string {
	line = strings.TrimSpace(line)
	line = strings.TrimPrefix(line, "|")
	line = strings.TrimSuffix(line, "|")
	out := strings.Split(line, "|")
	for i := range out {
		out[i] = strings.TrimSpace(out[i])
	}
	return out
}

// column returns the index of the header cell equal to name, or -1.
func (t compareTable) column(name string) int {
	return slices.Index(t.header, name)
}

// versionRE matches a release as the table names it: a Go toolchain
// (go1.26.8) or a module version, pseudo-versions included.
var versionRE = regexp.MustCompile(`(^|\s)(go1\.\d+(\.\d+)?|v\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?)$`)

// checkCompareTable returns what is wrong with t: rows of the wrong width,
// a peer column without a version, a ✅ of ours without a test that exists
// (tests holds the names of every Test, Example, Fuzz and Benchmark).
func checkCompareTable(t compareTable, tests map[string]bool) []string {
	var problems []string
	ours, shownBy := t.column("**waitgroup**"), t.column("shown by")
	if ours < 0 || shownBy < 0 {
		return []string{`the table has no "**waitgroup**" or "shown by" column`}
	}
	for i, row := range t.rows {
		if len(row) != len(t.header) {
			problems = append(problems, "row "+strconv.Itoa(i+1)+" has "+strconv.Itoa(len(row))+" cells, the header "+strconv.Itoa(len(t.header)))
		}
	}
	var versions []string
	for _, row := range t.rows {
		if len(row) > 0 && row[0] == "version read" {
			versions = row
			break
		}
	}
	if versions == nil {
		problems = append(problems, `the table has no "version read" row`)
	} else {
		for c := 1; c < ours && c < len(versions); c++ {
			if !versionRE.MatchString(versions[c]) {
				problems = append(problems, "column "+t.header[c]+" names no version: "+strconv.Quote(versions[c]))
			}
		}
	}
	for _, row := range t.rows {
		if len(row) != len(t.header) || !strings.HasPrefix(row[ours], "✅") {
			continue
		}
		named := 0
		for _, name := range codeSpans(row[shownBy]) {
			if !isTestName(name) {
				continue
			}
			named++
			if !tests[name] {
				problems = append(problems, strconv.Quote(row[0])+": no test named "+name)
			}
		}
		if named == 0 {
			problems = append(problems, strconv.Quote(row[0])+": ✅ without a named test")
		}
	}
	return problems
}

var codeSpanRE = regexp.MustCompile("`([^`]+)`")

func codeSpans(s string) []string {
	var out []string
	for _, m := range codeSpanRE.FindAllStringSubmatch(s, -1) {
		out = append(out, m[1])
	}
	return out
}

var testNameRE = regexp.MustCompile(`^(Test|Example|Fuzz|Benchmark)[A-Za-z0-9_]*$`)

func isTestName(s string) bool { return testNameRE.MatchString(s) }

var testFuncRE = regexp.MustCompile(`(?m)^func ((Test|Example|Fuzz|Benchmark)[A-Za-z0-9_]*)\(`)

// testNames returns the names of the test functions in the _test.go files
// under root.
func testNames(root string) (map[string]bool, error) {
	names := map[string]bool{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && path != root && strings.HasPrefix(d.Name(), ".") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, "_test.go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range testFuncRE.FindAllStringSubmatch(string(src), -1) {
			names[m[1]] = true
		}
		return nil
	})
	return names, err
}

// TestReadmeCompareTable checks the README's comparison table: every peer
// column names the release it describes, and every ✅ in our column names a
// test that exists in this repository.
func TestReadmeCompareTable(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	table, err := readCompareTable(string(readme))
	if err != nil {
		t.Fatal(err)
	}
	tests, err := testNames(".")
	if err != nil {
		t.Fatal(err)
	}
	if n := len(table.header); n < 4 {
		t.Fatalf("the table has %d columns", n)
	}
	for _, p := range checkCompareTable(table, tests) {
		t.Error(p)
	}
}

// TestCompareTableChecks proves that checkCompareTable finds each kind of
// fault, so that TestReadmeCompareTable can fail.
func TestCompareTableChecks(t *testing.T) {
	const head = "| | errgroup | conc | **waitgroup** | shown by |\n|---|---|---|---|---|\n"
	const good = "| version read | x/sync v0.25.0 | v0.3.0 | this commit | |\n" +
		"| Limit | ✅ | ➖ | ✅ | `TestSetLimit` |\n"
	tests := map[string]bool{"TestSetLimit": true, "TestOther": true}
	cases := []struct {
		name, table string
		want        []string
	}{
		{"good", head + good, nil},
		{"no version row", head + "| Limit | ✅ | ➖ | ✅ | `TestSetLimit` |\n",
			[]string{`the table has no "version read" row`}},
		{"a column without a version", head + "| version read | x/sync | v0.3.0 | this commit | |\n",
			[]string{`column errgroup names no version: "x/sync"`}},
		{"an empty version", head + "| version read | x/sync v0.25.0 | | this commit | |\n",
			[]string{`column conc names no version: ""`}},
		{"a test that does not exist", head + good + "| Panics | ❌ | ➖ | ✅ | `TestGone`, `TestOther` |\n",
			[]string{`"Panics": no test named TestGone`}},
		{"a ✅ with no test", head + good + "| Deps | ✅ | ❌ | ✅ | `go.mod` |\n",
			[]string{`"Deps": ✅ without a named test`}},
		{"a short row", head + good + "| Deps | ✅ | ❌ | ➖ |\n",
			[]string{"row 3 has 4 cells, the header 5"}},
		{"a ➖ needs no test", head + good + "| Deps | ✅ | ❌ | ➖ partly | |\n", nil},
	}
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			table, err := readCompareTable("intro\n## How it compares\n\ntext\n\n" + tt.table + "\nafter\n## Next\n| a | b |\n")
			if err != nil {
				t.Fatal(err)
			}
			got := checkCompareTable(table, tests)
			if !slices.Equal(got, tt.want) {
				t.Errorf("got %q\nwant %q", got, tt.want)
			}
		})
	}
}
