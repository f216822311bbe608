package waitgroupvet

import (
	"fmt"
	"go/ast"
	"go/token"
	"go/types"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/tools/go/analysis"
)

// Helpers for suggested fixes.

// fileOf returns the syntax tree of the file that holds pos.
func fileOf(pass *analysis.Pass, pos token.Pos) *ast.File {
	for _, f := range pass.Files {
		if f.FileStart <= pos && pos < f.FileEnd {
			return f
		}
	}
	return nil
}

// importName returns the name under which file imports path, or name if
// it does not, together with the edit that adds the import (nil if none is
// needed). ok is false if name means something else at one of the
// positions uses.
func importName(pass *analysis.Pass, file *ast.File, path, name string, uses ...token.Pos) (string, *analysis.TextEdit, bool) {
	for _, spec := range file.Imports {
		if p, _ := strconv.Unquote(spec.Path.Value); p == path {
			if spec.Name != nil {
				if spec.Name.Name == "_" || spec.Name.Name == "." {
					return "", nil, false
				}
				return spec.Name.Name, nil, true
			}
			return name, nil, true
		}
	}
	for _, pos := range uses {
		if lookup(pass, name, pos) != nil {
			return "", nil, false
		}
	}
	line := strconv.Quote(path)
	for _, d := range file.Decls {
		gd, ok := d.(*ast.GenDecl)
		if !ok || gd.Tok != token.IMPORT {
			continue
		}
		switch {
		case !gd.Lparen.IsValid():
		case !strings.Contains(strings.Split(path, "/")[0], "."):
			// The standard library's group comes first.
			return name, &analysis.TextEdit{Pos: gd.Lparen + 1, End: gd.Lparen + 1, NewText: []byte("\n\t" + line)}, true
		case len(gd.Specs) > 0 && strings.Contains(strings.Split(gd.Specs[len(gd.Specs)-1].(*ast.ImportSpec).Path.Value, "/")[0], "."):
			// Join the last group, of other modules.
			end := gd.Specs[len(gd.Specs)-1].End()
			return name, &analysis.TextEdit{Pos: end, End: end, NewText: []byte("\n\t" + line)}, true
		default:
			// Start a group of other modules.
			return name, &analysis.TextEdit{Pos: gd.Rparen, End: gd.Rparen, NewText: []byte("\n\t" + line + "\n")}, true
		}
		return name, &analysis.TextEdit{Pos: gd.Pos(), End: gd.Pos(), NewText: []byte("import " + line + "\n")}, true
	}
	end := file.Name.End()
	return name, &analysis.TextEdit{Pos: end, End: end, NewText: []byte("\n\nimport " + line)}, true
}

// indentOf returns the indentation of the line that holds pos, assuming
// gofmt's tabs.
func indentOf(pass *analysis.Pass, pos token.Pos) string {
	return strings.Repeat("\t", max(pass.Fset.Position(pos).Column-1, 0))
}

// source returns the text between from and to.
func source(pass *analysis.Pass, from, to token.Pos) (string, error) {
	tf := pass.Fset.File(from)
	src, err := pass.ReadFile(tf.Name())
	if err != nil {
		return "", err
	}
	if tf.Offset(to) > len(src) {
		return "", fmt.Errorf("%s changed on disk", tf.Name())
	}
	return string(src[tf.Offset(from):tf.Offset(to)]), nil
}

// lineEnd returns the end of the line of pos, after a comment that may end
// it, if nothing else follows pos on that line.
func lineEnd(pass *analysis.Pass, pos token.Pos) (token.Pos, bool) {
	f := pass.Fset.File(pos)
	if f == nil || f.Line(pos) >= f.LineCount() {
		return pos, false
	}
	end := f.LineStart(f.Line(pos)+1) - 1
	rest, err := source(pass, pos, end)
	rest = strings.TrimSpace(rest)
	return end, err == nil && (rest == "" || strings.HasPrefix(rest, "//"))
}

// contextVars returns the context variables declared outside lit that lit
// uses, each once.
func contextVars(info *types.Info, lit *ast.FuncLit) []*types.Var {
	var out []*types.Var
	ast.Inspect(lit.Body, func(n ast.Node) bool {
		if id, ok := n.(*ast.Ident); ok {
			v, ok := info.Uses[id].(*types.Var)
			if ok && !v.IsField() && isContext(v.Type()) && !within(v.Pos(), lit) && !slices.Contains(out, v) {
				out = append(out, v)
			}
		}
		return true
	})
	return out
}
