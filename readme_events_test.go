package waitgroup_test

import (
	"os"
	"strings"
	"testing"
)

// TestReadmeRestartsAndEvents checks that the code of the README's
// Restarts and Events sections is the body of ExampleRestart and
// ExampleEvents, which go test runs and checks, and that the output the
// README shows is theirs.
func TestReadmeRestartsAndEvents(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	example, err := os.ReadFile("example_events_test.go")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ section, example string }{
		{"## Restarts", "ExampleRestart"},
		{"## Events", "ExampleEvents"},
	}
	for _, tt := range tests {
		t.Run(tt.example, func(t *testing.T) {
			_, after, ok := strings.Cut(string(readme), "\n"+tt.section+"\n")
			if !ok {
				t.Fatalf("README has no %q section", tt.section)
			}
			after, _, _ = strings.Cut(after, "\n## ") // this section only
			code, ok := block(after, "```go\n")
			if !ok {
				t.Fatal("the section has no go code block")
			}
			output, ok := block(after, "It prints:\n\n```\n")
			if !ok {
				t.Fatal("the section does not show the output")
			}
			// The README shows the body one tab less indented, and the
			// output without the comment marks.
			var want strings.Builder
			want.WriteString("func " + tt.example + "() {\n")
			for line := range strings.Lines(code) {
				if line != "\n" {
					want.WriteString("\t")
				}
				want.WriteString(line)
			}
			want.WriteString("\t// Output:\n")
			for line := range strings.Lines(output) {
				want.WriteString("\t// " + line)
			}
			want.WriteString("}\n")
			if n := strings.Count(code, "\n"); n < 15 {
				t.Fatalf("the example has %d lines", n)
			}
			if !strings.Contains(string(example), want.String()) {
				t.Fatalf("README section %q is not %s and its output:\n%s", tt.section, tt.example, want.String())
			}
		})
	}
}

// block returns the text between start and the next closing fence.
func block(s, start string) (string, bool) {
	_, after, ok := strings.Cut(s, start)
	if !ok {
		return "", false
	}
	body, _, ok := strings.Cut(after, "```")
	return body, ok
}
