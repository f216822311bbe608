package waitgroupvet

import (
	"go/ast"
	"go/token"
	"go/types"
	"slices"

	"golang.org/x/tools/go/analysis"
)

// Helpers about variables: where they are set, used and declared.

// eachAssign calls f with the expression assigned to v by each assignment
// or declaration in scope, or the whole right-hand side of a tuple
// assignment.
func eachAssign(info *types.Info, scope ast.Node, v types.Object, f func(ast.Expr)) {
	is := func(e ast.Expr) bool {
		id, ok := e.(*ast.Ident)
		return ok && (info.Defs[id] == v || info.Uses[id] == v)
	}
	ast.Inspect(scope, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.AssignStmt:
			for i, l := range n.Lhs {
				if !is(l) {
					continue
				}
				if len(n.Lhs) == len(n.Rhs) {
					f(n.Rhs[i])
				} else {
					f(n.Rhs[0])
				}
			}
		case *ast.ValueSpec:
			for i, name := range n.Names {
				if !is(name) {
					continue
				}
				if len(n.Names) == len(n.Values) {
					f(n.Values[i])
				} else if len(n.Values) == 1 {
					f(n.Values[0])
				}
			}
		}
		return true
	})
}

// lookup returns the object name denotes at pos.
func lookup(pass *analysis.Pass, name string, pos token.Pos) types.Object {
	s := pass.Pkg.Scope().Innermost(pos)
	if s == nil {
		return nil
	}
	_, obj := s.LookupParent(name, pos)
	return obj
}

// usesOf returns the identifiers in n that refer to obj.
func usesOf(info *types.Info, n ast.Node, obj types.Object) []*ast.Ident {
	var ids []*ast.Ident
	ast.Inspect(n, func(n ast.Node) bool {
		if id, ok := n.(*ast.Ident); ok && info.Uses[id] == obj {
			ids = append(ids, id)
		}
		return true
	})
	return ids
}

// litParam reports whether v is a parameter of a function literal.
func litParam(pass *analysis.Pass, v *types.Var) bool {
	file := fileOf(pass, v.Pos())
	found := false
	if file != nil {
		ast.Inspect(file, func(n ast.Node) bool {
			if lit, ok := n.(*ast.FuncLit); ok && within(v.Pos(), lit.Type.Params) {
				found = true
			}
			return !found && (n == nil || within(v.Pos(), n) || n == file)
		})
	}
	return found
}

// declOf returns the DeclStmt in body that holds spec.
func declOf(body ast.Node, spec *ast.ValueSpec) ast.Node {
	var out ast.Node = spec
	ast.Inspect(body, func(n ast.Node) bool {
		if d, ok := n.(*ast.DeclStmt); ok && within(spec.Pos(), d) {
			out = d
		}
		return out == spec
	})
	return out
}

// inBlockList reports whether s is a statement of a block in fn, outside
// loops (where a defer would wait for the function's end).
func inBlockList(fn ast.Node, s ast.Stmt) bool {
	found := false
	ast.PreorderStack(fn, nil, func(n ast.Node, stack []ast.Node) bool {
		if n != s {
			return !found
		}
		b, ok := stack[len(stack)-1].(*ast.BlockStmt)
		found = ok && !slices.ContainsFunc(stack, func(n ast.Node) bool {
			switch n.(type) {
			case *ast.ForStmt, *ast.RangeStmt:
				return true
			}
			return false
		}) && slices.Contains(b.List, s)
		return false
	})
	return found
}

// assignedVar returns the variable e, the left of an assignment, denotes,
// or nil for _ or anything else.
func assignedVar(info *types.Info, e ast.Expr) *types.Var {
	id, ok := e.(*ast.Ident)
	if !ok || id.Name == "_" {
		return nil
	}
	obj := info.Defs[id]
	if obj == nil {
		obj = info.Uses[id]
	}
	v, _ := obj.(*types.Var)
	return v
}
