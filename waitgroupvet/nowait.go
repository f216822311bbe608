package waitgroupvet

import (
	"go/ast"
	"go/types"
	"slices"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/analysis/passes/inspect"
	"golang.org/x/tools/go/ast/inspector"
)

// NoWait reports a local group that starts tasks and is never waited for.
var NoWait = &analysis.Analyzer{
	Name: "nowait",
	Doc: `report a local group whose tasks are started but never waited for

A group made in a function (var g errgroup.Group, errgroup.WithContext,
waitgroup.New or WithContext) that calls Go or TryGo but never Wait, and
does not let the group out of the function, loses what its tasks return:
nothing waits for them and their errors are dropped.

	var g errgroup.Group
	for _, u := range urls {
		g.Go(func() error { return fetch(u) }) // reported: call g.Wait()
	}
	return nil

A Wait anywhere in the function counts, even in a function literal. A group
that is returned, stored, passed to a function or linked to another group
is not reported, and neither is one made by Sub, which its parent waits
for.`,
	Requires: []*analysis.Analyzer{inspect.Analyzer},
	Run:      runNoWait,
}

func runNoWait(pass *analysis.Pass) (any, error) {
	if skipPackage(pass) {
		return nil, nil
	}
	in := pass.ResultOf[inspect.Analyzer].(*inspector.Inspector)
	info := pass.TypesInfo
	eachFuncBody(in, func(fn ast.Node, body *ast.BlockStmt) {
		ast.Inspect(body, func(n ast.Node) bool {
			if _, ok := n.(*ast.FuncLit); ok {
				return false
			}
			for _, v := range localGroups(info, n) {
				if first, ours := startedNotWaited(info, fn, v); first != nil {
					g := v.Name()
					wait := g + ".Wait()"
					if ours {
						wait = g + ".Wait(ctx)"
					}
					pass.ReportRangef(first, "%[1]s.%[2]s is called but %[1]s.Wait never is, so nothing waits for %[1]s's tasks and their errors are lost: call %[3]s before returning",
						g, callee(info, first).Name(), wait)
				}
			}
			return true
		})
	})
	return nil, nil
}

// localGroups returns the variables that n declares and sets to a new
// errgroup.Group or waitgroup.Group.
func localGroups(info *types.Info, n ast.Node) []*types.Var {
	isNew := func(e ast.Expr) bool {
		switch e := ast.Unparen(e).(type) {
		case *ast.CallExpr:
			f := callee(info, e)
			if isFunc(f, errgroupPath, "WithContext") || isFunc(f, waitgroupPath, "New", "WithContext") {
				return true
			}
			if id, ok := ast.Unparen(e.Fun).(*ast.Ident); ok && id.Name == "new" && len(e.Args) == 1 {
				_, builtin := info.Uses[id].(*types.Builtin)
				return builtin && isGroupType(info.TypeOf(e.Args[0]))
			}
		case *ast.UnaryExpr:
			lit, ok := ast.Unparen(e.X).(*ast.CompositeLit)
			return ok && isGroupType(info.TypeOf(lit))
		case *ast.CompositeLit:
			return isGroupType(info.TypeOf(e))
		}
		return false
	}
	var out []*types.Var
	add := func(id *ast.Ident) {
		if v, ok := info.Defs[id].(*types.Var); ok && v.Name() != "_" {
			out = append(out, v)
		}
	}
	switch n := n.(type) {
	case *ast.AssignStmt:
		if len(n.Rhs) == 1 && len(n.Lhs) >= 1 && isNew(n.Rhs[0]) {
			if id, ok := n.Lhs[0].(*ast.Ident); ok {
				add(id)
			}
		}
	case *ast.ValueSpec:
		for i, id := range n.Names {
			switch {
			case len(n.Values) == 0 && isGroupType(info.TypeOf(id)):
				add(id)
			case len(n.Values) == len(n.Names) && isNew(n.Values[i]), len(n.Values) == 1 && i == 0 && isNew(n.Values[0]):
				add(id)
			}
		}
	}
	return out
}

func isGroupType(t types.Type) bool {
	return t != nil && (isNamed(t, errgroupPath, "Group") || isNamed(t, waitgroupPath, "Group"))
}

// startedNotWaited returns the first Go or TryGo call on v in fn if fn
// never calls v.Wait and lets v out in no other way than method calls, and
// whether v is a waitgroup.Group.
func startedNotWaited(info *types.Info, fn ast.Node, v *types.Var) (*ast.CallExpr, bool) {
	var first *ast.CallExpr
	waited, escaped := false, false
	ast.PreorderStack(fn, nil, func(n ast.Node, stack []ast.Node) bool {
		id, ok := n.(*ast.Ident)
		if !ok || info.Uses[id] != v || escaped {
			return !escaped
		}
		if len(stack) < 2 {
			escaped = true
			return false
		}
		sel, ok := stack[len(stack)-1].(*ast.SelectorExpr)
		call, ok2 := stack[len(stack)-2].(*ast.CallExpr)
		if !ok || !ok2 || call.Fun != sel || !slices.Contains(append(groupMethods, "Cancel"), sel.Sel.Name) {
			escaped = true
			return false
		}
		switch sel.Sel.Name {
		case "Wait":
			waited = true
		case "Go", "TryGo":
			if first == nil {
				first = call
			}
		}
		return true
	})
	if waited || escaped || first == nil {
		return nil, false
	}
	return first, isNamed(v.Type(), waitgroupPath, "Group")
}
