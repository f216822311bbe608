package waitgroup_test

import (
	"bufio"
	"bytes"
	"io/fs"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"
)

// The repository names no package registry's host: the module proxy and
// checksum database that go uses are the machine's business (GOPROXY,
// GOSUMDB), and a host written into a script or a doc pins every reader to
// it. The hosts are assembled from their labels so that this file does not
// name them either.
var registryHosts = [][]string{
	// Go: module proxy, checksum database, module index, and the package
	// site in front of them.
	{"proxy", "golang", "org"},
	{"sum", "golang", "org"},
	{"index", "golang", "org"},
	{"pkg", "go", "dev"},
	// Other languages' registries.
	{"registry", "npmjs", "org"},
	{"registry", "yarnpkg", "com"},
	{"pypi", "org"},
	{"files", "pythonhosted", "org"},
	{"crates", "io"},
	{"index", "crates", "io"},
	{"static", "crates", "io"},
	{"rubygems", "org"},
	{"repo", "maven", "apache", "org"},
	{"repo1", "maven", "org"},
	{"api", "nuget", "org"},
}

// registryHostRE matches, as a whole host name, any of registryHosts and any
// of the third-party Go proxies whose host is "go"+"proxy" under a
// top-level domain.
var registryHostRE = func() *regexp.Regexp {
	alts := []string{regexp.QuoteMeta("go"+"proxy") + `\.[a-z]{2,}`}
	for _, labels := range registryHosts {
		alts = append(alts, regexp.QuoteMeta(strings.Join(labels, ".")))
	}
	return regexp.MustCompile(`(?i)(?:^|[^a-z0-9.-])(` + strings.Join(alts, "|") + `)(?:$|[^a-z0-9-])`)
}()

// findRegistryHosts returns "path:line: host" for each registry host named in
// the files of fsys, skipping version control metadata.
func findRegistryHosts(fsys fs.FS) ([]string, error) {
	var found []string
	err := fs.WalkDir(fsys, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Name() == ".git" {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil // a worktree's .git file
		}
		if d.IsDir() {
			return nil
		}
		data, err := fs.ReadFile(fsys, path)
		if err != nil {
			return err
		}
		sc := bufio.NewScanner(bytes.NewReader(data))
		sc.Buffer(nil, len(data)+1)
		for n := 1; sc.Scan(); n++ {
			for _, m := range registryHostRE.FindAllStringSubmatch(sc.Text(), -1) {
				found = append(found, path+":"+strconv.Itoa(n)+": "+m[1])
			}
		}
		return sc.Err()
	})
	return found, err
}

// TestNoRegistryHosts fails if any file of the repository names a package
// registry's host.
func TestNoRegistryHosts(t *testing.T) {
	found, err := findRegistryHosts(os.DirFS("."))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range found {
		t.Errorf("names a package registry host: %s", f)
	}
}

// TestFindRegistryHosts proves that the scan finds each host, in any case
// and inside URLs, in any file including CI scripts, and leaves alone the
// GOPROXY variable and names that only contain a host.
func TestFindRegistryHosts(t *testing.T) {
	h := func(labels ...string) string { return strings.Join(labels, ".") }
	fsys := fstest.MapFS{
		".ci/run": {Data: []byte("#!/bin/sh\ncurl -fsSL https://" + h("proxy", "golang", "org") + "/x\nproxy=$(go env GOPROXY)\n")},
		"README.md": {Data: []byte("see [docs](https://" + h("pkg", "go", "dev") + "/sync)\n" +
			"set GOPROXY.\nexport GOPROXY=https://" + h("go"+"proxy", "io") + ",direct\n")},
		"docs/a.txt":  {Data: []byte("no hosts here: " + h("notproxy", "golang", "org") + " " + h("proxy", "golang", "organic") + "\n")},
		"docs/b.txt":  {Data: []byte(strings.ToUpper(h("sum", "golang", "org")) + " and " + h("registry", "npmjs", "org") + "\n")},
		".git/config": {Data: []byte("url = https://" + h("proxy", "golang", "org") + "\n")},
	}
	found, err := findRegistryHosts(fsys)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		".ci/run:2: " + h("proxy", "golang", "org"),
		"README.md:1: " + h("pkg", "go", "dev"),
		"README.md:3: " + h("go"+"proxy", "io"),
		"docs/b.txt:1: " + strings.ToUpper(h("sum", "golang", "org")),
		"docs/b.txt:1: " + h("registry", "npmjs", "org"),
	}
	if !slices.Equal(found, want) {
		t.Errorf("found\n%s\nwant\n%s", strings.Join(found, "\n"), strings.Join(want, "\n"))
	}
}
