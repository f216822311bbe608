package waitgroup_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestVetCatchesCopy proves that go vet's copylocks check flags a copied
// Group, as the type's documentation promises.
func TestVetCatchesCopy(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go vet")
	}
	root, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	files := map[string]string{
		"go.mod": "module copier\n\ngo 1.25\n\nrequire github.com/gowaitgroup/waitgroup v0.0.0\n\nreplace github.com/gowaitgroup/waitgroup => " + root + "\n",
		"copy.go": `package copier

import "github.com/gowaitgroup/waitgroup"

func Copy(g *waitgroup.Group) waitgroup.Group { return *g }
`,
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	gotool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command in PATH")
	}
	cmd := exec.Command(gotool, "vet", ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off")
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "copies lock") {
		t.Fatalf("go vet did not flag the copy (err %v):\n%s", err, out)
	}
}
