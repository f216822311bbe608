package waitgroupvet

import (
	"fmt"
	"go/ast"
	"go/types"
	"slices"
	"strings"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/analysis/passes/inspect"
	"golang.org/x/tools/go/ast/inspector"
)

// TaskCtx reports a task that ignores the context its group gives it.
var TaskCtx = &analysis.Analyzer{
	Name: "taskctx",
	Doc: `report a task that uses a context from outside instead of its own

A task started by waitgroup's Group.Go or TryGo, Results.Go or TryGo, or
the function given to Map or MapSeq, receives the group's context as its
ctx parameter: Cancel, CancelOnError and a failed sibling cancel that
context. A task that leaves the parameter unnamed, blank or unused while it
uses another context variable from outside never sees that cancellation:

	g.Go(func(_ context.Context) error { // reported: use the parameter
		return fetch(ctx, url)
	})

When the group's context derives from that variable (the group was made
by waitgroup.WithContext(ctx), or is a Sub or Results of such a group, or
ctx is Map's), the suggested fix names the parameter after it, so that the
body uses the parameter and loses no cancellation. Not reported: a
context variable set from a group's Context method, which is the group's
context; one passed to context.WithoutCancel, which detaches on purpose;
ctx.Value, which reads a value, not cancellation.

The same mistake with golang.org/x/sync/errgroup: a task of a group made
by errgroup.WithContext(ctx) that uses ctx, and not the derived context,
whether that context is named or discarded (g, _ :=). When it is named the
suggested fix uses it.`,
	Requires: []*analysis.Analyzer{inspect.Analyzer},
	Run:      runTaskCtx,
}

func runTaskCtx(pass *analysis.Pass) (any, error) {
	if skipPackage(pass) {
		return nil, nil
	}
	in := pass.ResultOf[inspect.Analyzer].(*inspector.Inspector)
	in.WithStack([]ast.Node{(*ast.CallExpr)(nil)}, func(n ast.Node, push bool, stack []ast.Node) bool {
		if !push {
			return true
		}
		call := n.(*ast.CallExpr)
		f := callee(pass.TypesInfo, call)
		scope := enclosingScope(stack)
		switch {
		case isMethod(f, waitgroupPath, "Group", "Go", "TryGo"), isMethod(f, waitgroupPath, "Results", "Go", "TryGo"):
			_, _, recv := groupCall(pass.TypesInfo, call)
			g := render(recv)
			parent := groupParent(pass.TypesInfo, scope, recvRef(pass.TypesInfo, call), 0)
			checkTask(pass, scope, call.Args[0], fmt.Sprintf("task passed to %s.%s", g, f.Name()), g, parent)
		case isFunc(f, waitgroupPath, "Map", "MapSeq") && len(call.Args) >= 3:
			parent := ctxVar(pass.TypesInfo, call.Args[0])
			checkTask(pass, scope, call.Args[2], "function passed to waitgroup."+f.Name(), "waitgroup."+f.Name(), parent)
		case isMethod(f, errgroupPath, "Group", "Go", "TryGo"):
			checkErrgroupTask(pass, scope, call)
		}
		return true
	})
	return nil, nil
}

// checkTask reports task if it is a function literal that ignores its
// first parameter, the context, and uses context variables from outside.
// parent is the variable the context passed to the task derives from, if
// known: the fix is offered only when that is the one the task uses, so
// that it loses no cancellation.
func checkTask(pass *analysis.Pass, scope ast.Node, task ast.Expr, what, canceller string, parent *types.Var) {
	lit, ok := ast.Unparen(task).(*ast.FuncLit)
	if !ok || lit.Type.Params.NumFields() == 0 {
		return
	}
	info := pass.TypesInfo
	params := lit.Type.Params.List
	first := params[0]
	if len(first.Names) > 0 {
		if obj := info.Defs[first.Names[0]]; obj != nil && len(usesOf(info, lit.Body, obj)) > 0 {
			return
		}
	}
	outer := outerContexts(pass, scope, lit)
	if len(outer) == 0 {
		return
	}
	var names []string
	var vars []types.Object
	for _, id := range outer {
		if !slices.Contains(vars, info.Uses[id]) {
			names, vars = append(names, id.Name), append(vars, info.Uses[id])
		}
	}
	d := analysis.Diagnostic{
		Pos: first.Pos(),
		End: first.End(),
		Message: fmt.Sprintf("the %s ignores its ctx parameter and uses %s from outside, so cancellation by %s cannot reach it: use the parameter",
			what, strings.Join(names, " and "), canceller),
	}
	if len(vars) != 1 || vars[0] != parent {
		d.Message += fmt.Sprintf(", from a group made with waitgroup.WithContext(%s) if the task must also end with %[1]s", names[0])
		if len(vars) > 1 {
			d.Message = strings.TrimSuffix(d.Message, fmt.Sprintf(" if the task must also end with %s", names[0])) + " or the like"
		}
	} else if !paramNamed(params, names[0]) {
		// Naming the parameter like the outer variable makes every use of
		// that variable in the body refer to the parameter instead.
		var edits []analysis.TextEdit
		if len(first.Names) > 0 {
			edits = append(edits, analysis.TextEdit{Pos: first.Names[0].Pos(), End: first.Names[0].End(), NewText: []byte(names[0])})
		} else {
			for i, p := range params {
				name := "_ "
				if i == 0 {
					name = names[0] + " "
				}
				edits = append(edits, analysis.TextEdit{Pos: p.Type.Pos(), End: p.Type.Pos(), NewText: []byte(name)})
			}
		}
		d.SuggestedFixes = []analysis.SuggestedFix{{Message: "name the ctx parameter " + names[0] + " and use it", TextEdits: edits}}
	}
	pass.Report(d)
}

// groupParent returns the context variable that the context of the group
// g derives from, as scope makes g: waitgroup.WithContext(ctx), or Sub or
// NewResults of such a group; nil if that is not known.
func groupParent(info *types.Info, scope ast.Node, g ref, depth int) *types.Var {
	if !g.valid() || g.fields != "" || depth > 8 {
		return nil
	}
	var parents []*types.Var
	eachAssign(info, scope, g.root, func(e ast.Expr) {
		var p *types.Var
		if call, ok := ast.Unparen(e).(*ast.CallExpr); ok {
			switch f := callee(info, call); {
			case isFunc(f, waitgroupPath, "WithContext"):
				p = ctxVar(info, call.Args[0])
			case isMethod(f, waitgroupPath, "Group", "Sub"):
				p = groupParent(info, scope, recvRef(info, call), depth+1)
			case isFunc(f, waitgroupPath, "NewResults") && len(call.Args) == 1:
				p = groupParent(info, scope, refOf(info, call.Args[0]), depth+1)
			}
		}
		parents = append(parents, p)
	})
	if len(parents) == 0 || slices.Contains(parents, nil) || slices.ContainsFunc(parents, func(p *types.Var) bool { return p != parents[0] }) {
		return nil
	}
	return parents[0]
}

// ctxVar returns the variable e denotes, or nil.
func ctxVar(info *types.Info, e ast.Expr) *types.Var {
	id, ok := ast.Unparen(e).(*ast.Ident)
	if !ok {
		return nil
	}
	v, _ := info.Uses[id].(*types.Var)
	return v
}

func paramNamed(params []*ast.Field, name string) bool {
	for _, p := range params {
		for _, n := range p.Names {
			if n.Name == name {
				return true
			}
		}
	}
	return false
}

// outerContexts returns the uses in lit of context variables declared
// outside it, leaving out group contexts and arguments of
// context.WithoutCancel.
func outerContexts(pass *analysis.Pass, scope ast.Node, lit *ast.FuncLit) []*ast.Ident {
	info := pass.TypesInfo
	var ids []*ast.Ident
	ast.Inspect(lit.Body, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.CallExpr:
			if isFunc(callee(info, n), contextPath, "WithoutCancel") {
				return false
			}
		case *ast.SelectorExpr:
			if n.Sel.Name == "Value" {
				return false // ctx.Value(k) reads a value, not cancellation
			}
		case *ast.Ident:
			v, ok := info.Uses[n].(*types.Var)
			if ok && !v.IsField() && isContext(v.Type()) && !within(v.Pos(), lit) && !groupContext(info, scope, v, 0) {
				ids = append(ids, n)
			}
		}
		return true
	})
	return ids
}

// groupContext reports whether scope assigns v, directly or through
// derived contexts, from a group's context: Group.Context, or the context
// errgroup.WithContext returns.
func groupContext(info *types.Info, scope ast.Node, v *types.Var, depth int) bool {
	if depth > 8 {
		return false
	}
	found := false
	check := func(rhs ast.Expr) {
		ast.Inspect(rhs, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.CallExpr:
				f := callee(info, n)
				if isMethod(f, waitgroupPath, "Group", "Context") || isFunc(f, errgroupPath, "WithContext") {
					found = true
				}
			case *ast.Ident:
				if w, ok := info.Uses[n].(*types.Var); ok && w != v && isContext(w.Type()) && groupContext(info, scope, w, depth+1) {
					found = true
				}
			}
			return !found
		})
	}
	eachAssign(info, scope, v, check)
	return found
}

// checkErrgroupTask reports a task of an errgroup made by WithContext(ctx)
// that uses ctx and not the derived context.
func checkErrgroupTask(pass *analysis.Pass, scope ast.Node, call *ast.CallExpr) {
	info := pass.TypesInfo
	lit, ok := ast.Unparen(call.Args[0]).(*ast.FuncLit)
	g := recvRef(info, call)
	if !ok || !g.valid() || g.fields != "" {
		return
	}
	var made []*ast.AssignStmt
	ast.Inspect(scope, func(n ast.Node) bool {
		if as, ok := n.(*ast.AssignStmt); ok && len(as.Lhs) == 2 && len(as.Rhs) == 1 {
			id, _ := as.Lhs[0].(*ast.Ident)
			rhs, _ := ast.Unparen(as.Rhs[0]).(*ast.CallExpr)
			if id != nil && rhs != nil && (info.Defs[id] == g.root || info.Uses[id] == g.root) && isFunc(callee(info, rhs), errgroupPath, "WithContext") {
				made = append(made, as)
			}
		}
		return true
	})
	if len(made) != 1 {
		return
	}
	parentID, _ := ast.Unparen(made[0].Rhs[0].(*ast.CallExpr).Args[0]).(*ast.Ident)
	derivedID, _ := made[0].Lhs[1].(*ast.Ident)
	if parentID == nil || derivedID == nil {
		return
	}
	method := callee(info, call).Name()
	parent, _ := info.Uses[parentID].(*types.Var)
	derived := info.Defs[derivedID]
	if derived == nil {
		derived = info.Uses[derivedID]
	}
	if derivedID.Name == "_" {
		derived = nil
	}
	if parent == nil || derived != nil && len(usesOf(info, lit.Body, derived)) > 0 {
		return
	}
	var uses []*ast.Ident
	for _, id := range outerContexts(pass, scope, lit) {
		if info.Uses[id] == parent {
			uses = append(uses, id)
		}
	}
	if len(uses) == 0 {
		return
	}
	_, _, recv := groupCall(info, call)
	name := render(recv)
	if derived == nil {
		pass.ReportRangef(uses[0], "the task passed to %[1]s.%[3]s uses %[2]s, but the context errgroup.WithContext derived from it for %[1]s is discarded (%[1]s, _ :=), so %[1]s's cancellation cannot reach the task: name that context and use it in the tasks", name, parent.Name(), method)
		return
	}
	d := analysis.Diagnostic{
		Pos:     uses[0].Pos(),
		End:     uses[0].End(),
		Message: fmt.Sprintf("the task passed to %[1]s.%[4]s uses %[2]s, not %[3]s that errgroup.WithContext derived for %[1]s, so %[1]s's cancellation cannot reach it: use %[3]s", name, parent.Name(), derived.Name(), method),
	}
	var edits []analysis.TextEdit
	for _, id := range uses {
		if lookup(pass, derived.Name(), id.Pos()) != derived {
			edits = nil // shadowed here: no fix
			break
		}
		edits = append(edits, analysis.TextEdit{Pos: id.Pos(), End: id.End(), NewText: []byte(derived.Name())})
	}
	if len(edits) > 0 {
		d.SuggestedFixes = []analysis.SuggestedFix{{Message: "use " + derived.Name(), TextEdits: edits}}
	}
	pass.Report(d)
}
