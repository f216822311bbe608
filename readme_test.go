package waitgroup_test

import (
	"os"
	"strings"
	"testing"
)

// TestReadmeQuickStart checks that the README's quick start is a verbatim
// part of Example_service, which go test compiles and runs, so the README
// cannot drift from working code.
func TestReadmeQuickStart(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	example, err := os.ReadFile("example_service_test.go")
	if err != nil {
		t.Fatal(err)
	}
	_, after, ok := strings.Cut(string(readme), "## Quick start")
	if !ok {
		t.Fatal("README has no Quick start section")
	}
	_, after, ok = strings.Cut(after, "```go\n")
	if !ok {
		t.Fatal("Quick start has no go code block")
	}
	code, _, ok := strings.Cut(after, "```")
	if !ok {
		t.Fatal("Quick start code block is not closed")
	}
	if n := strings.Count(code, "\n"); n < 15 {
		t.Fatalf("Quick start has %d lines; it should show Start and Close", n)
	}
	if !strings.Contains(string(example), code) {
		t.Fatalf("README quick start is not a verbatim part of example_service_test.go:\n%s", code)
	}
}

// TestReadmeStages checks that the README's stages example is the body of
// ExampleStages, which go test runs and checks.
func TestReadmeStages(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	example, err := os.ReadFile("example_stages_test.go")
	if err != nil {
		t.Fatal(err)
	}
	_, after, ok := strings.Cut(string(readme), "## Stages")
	if !ok {
		t.Fatal("README has no Stages section")
	}
	_, after, ok = strings.Cut(after, "```go\n")
	if !ok {
		t.Fatal("the Stages section has no go code block")
	}
	code, _, ok := strings.Cut(after, "```")
	if !ok {
		t.Fatal("the Stages code block is not closed")
	}
	// The README shows the body one tab less indented.
	var indented strings.Builder
	for line := range strings.Lines(code) {
		if line != "\n" {
			indented.WriteString("\t")
		}
		indented.WriteString(line)
	}
	if n := strings.Count(code, "\n"); n < 20 {
		t.Fatalf("the Stages example has %d lines; it should show three stages", n)
	}
	if !strings.Contains(string(example), "func ExampleStages() {\n"+indented.String()+"\t// Output:") {
		t.Fatalf("README stages example is not the body of ExampleStages:\n%s", code)
	}
}
