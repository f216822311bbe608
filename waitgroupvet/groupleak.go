package waitgroupvet

import (
	"fmt"
	"go/ast"
	"go/types"
	"slices"
	"strings"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/analysis/passes/ctrlflow"
	"golang.org/x/tools/go/analysis/passes/inspect"
	"golang.org/x/tools/go/ast/inspector"
	"golang.org/x/tools/go/cfg"
)

// GroupLeak reports a group made from a context and never cancelled.
var GroupLeak = &analysis.Analyzer{
	Name: "groupleak",
	Doc: `report a group from waitgroup.WithContext that is not cancelled

waitgroup.WithContext(ctx) derives the group's context from ctx, and that
context stays registered with ctx until Cancel is called or ctx ends: Wait
does not cancel it, since a long-lived group goes idle and busy many times.
A group made for one call (one request, one fan-out) and dropped without
Cancel therefore leaks for as long as ctx lives. Like lostcancel, this
reports a group made in a function that neither returns it, stores it, nor
passes it on, and that can reach a return without calling its Cancel:

	g := waitgroup.WithContext(ctx) // reported
	g.Go(task)
	return g.Wait(ctx)

The suggested fix, offered when the function waits for the group, adds
defer g.Cancel(nil) after it is made. Not reported: waitgroup.New, whose
context derives from context.Background and so is never registered; a
parent that ends with the function or has no cancellation (a context made
in it by context.WithCancel, WithTimeout or WithDeadline, context.Background,
TODO and WithoutCancel, an http.Request's or a test's Context); the context
parameter of a function literal, such as a service's run function, which
usually ends as that context does; main.main.`,
	Requires: []*analysis.Analyzer{inspect.Analyzer, ctrlflow.Analyzer},
	Run:      runGroupLeak,
}

func runGroupLeak(pass *analysis.Pass) (any, error) {
	if skipPackage(pass) {
		return nil, nil
	}
	in := pass.ResultOf[inspect.Analyzer].(*inspector.Inspector)
	cfgs := pass.ResultOf[ctrlflow.Analyzer].(*ctrlflow.CFGs)
	eachFuncBody(in, func(n ast.Node, body *ast.BlockStmt) {
		if d, ok := n.(*ast.FuncDecl); ok && d.Name.Name == "main" && d.Recv == nil && pass.Pkg.Name() == "main" {
			return // the process ends with it
		}
		var g *cfg.CFG
		ast.Inspect(body, func(m ast.Node) bool {
			if _, ok := m.(*ast.FuncLit); ok {
				return false // analyzed on its own
			}
			v, stmt, call := groupMade(pass.TypesInfo, m, body)
			if v == nil || scopedContext(pass, n, call.Args[0], 0) || escapes(pass.TypesInfo, n, v) {
				return true
			}
			if g == nil {
				switch n := n.(type) {
				case *ast.FuncDecl:
					g = cfgs.FuncDecl(n)
				case *ast.FuncLit:
					g = cfgs.FuncLit(n)
				}
			}
			if ret := uncancelledPath(pass.TypesInfo, g, v, stmt); ret != nil {
				reportGroupLeak(pass, n, v, stmt, call, ret)
			}
			return true
		})
	})
	return nil, nil
}

// groupMade returns the variable, node and call if n makes a group with
// waitgroup.WithContext and assigns it to a variable declared in body. The
// node is the AssignStmt or ValueSpec, as the CFG has them.
func groupMade(info *types.Info, n ast.Node, body *ast.BlockStmt) (*types.Var, ast.Node, *ast.CallExpr) {
	var lhs []*ast.Ident
	var rhs []ast.Expr
	switch n := n.(type) {
	case *ast.AssignStmt:
		for _, l := range n.Lhs {
			id, _ := l.(*ast.Ident)
			lhs = append(lhs, id)
		}
		rhs = n.Rhs
	case *ast.ValueSpec:
		lhs, rhs = n.Names, n.Values
	default:
		return nil, nil, nil
	}
	if len(lhs) != len(rhs) {
		return nil, nil, nil
	}
	for i, e := range rhs {
		call, ok := ast.Unparen(e).(*ast.CallExpr)
		if !ok || lhs[i] == nil || !isFunc(callee(info, call), waitgroupPath, "WithContext") {
			continue
		}
		obj := info.Defs[lhs[i]]
		if obj == nil {
			obj = info.Uses[lhs[i]]
		}
		if v, ok := obj.(*types.Var); ok && v.Name() != "_" && within(v.Pos(), body) {
			return v, n, call
		}
	}
	return nil, nil, nil
}

// scopedContext reports whether the context e ends with the function fn
// or has no cancellation: see the analyzer's doc.
func scopedContext(pass *analysis.Pass, fn ast.Node, e ast.Expr, depth int) bool {
	info := pass.TypesInfo
	switch e := ast.Unparen(e).(type) {
	case *ast.CallExpr:
		f := callee(info, e)
		return isFunc(f, contextPath, "Background", "TODO", "WithoutCancel",
			"WithCancel", "WithCancelCause", "WithTimeout", "WithTimeoutCause", "WithDeadline", "WithDeadlineCause") ||
			isMethod(f, "net/http", "Request", "Context") ||
			isMethod(f, "testing", "common", "Context") || isMethod(f, "testing", "TB", "Context")
	case *ast.Ident:
		v, ok := info.Uses[e].(*types.Var)
		if !ok || depth > 4 {
			return false
		}
		if litParam(pass, v) {
			return true
		}
		if !within(v.Pos(), fn) {
			return false
		}
		scoped := false
		eachAssign(info, fn, v, func(rhs ast.Expr) {
			scoped = scoped || scopedContext(pass, fn, rhs, depth+1)
		})
		return scoped
	}
	return false
}

// groupMethods are the methods whose call neither cancels nor leaks g.
var groupMethods = []string{"Add", "Done", "Go", "TryGo", "SetLimit", "Wait", "Context", "Pending", "Link", "Sub"}

// escapes reports whether fn lets v out: anything but a method call on it,
// in fn or in a function literal that fn calls or gives to one of v's
// methods.
func escapes(info *types.Info, fn ast.Node, v *types.Var) bool {
	out := false
	ast.PreorderStack(fn, nil, func(n ast.Node, stack []ast.Node) bool {
		id, ok := n.(*ast.Ident)
		if out || !ok || info.Uses[id] != v {
			return !out
		}
		parent := stack[len(stack)-1]
		sel, ok := parent.(*ast.SelectorExpr)
		call, ok2 := stack[len(stack)-2].(*ast.CallExpr)
		if !ok || !ok2 || call.Fun != sel || !slices.Contains(append(groupMethods, "Cancel"), sel.Sel.Name) {
			out = true
			return false
		}
		for i := len(stack) - 1; i > 0; i-- {
			lit, ok := stack[i].(*ast.FuncLit)
			if !ok || lit == fn {
				continue
			}
			c, ok := stack[i-1].(*ast.CallExpr)
			if !ok {
				out = true
				break
			}
			if ast.Unparen(c.Fun) == lit {
				continue // called on the spot
			}
			s, ok := ast.Unparen(c.Fun).(*ast.SelectorExpr)
			if id, ok2 := ast.Unparen(s.X).(*ast.Ident); !ok || !ok2 || info.Uses[id] != v {
				out = true
				break
			}
		}
		return !out
	})
	return out
}

// uncancelledPath returns a return statement that the CFG g can reach from
// stmt, which makes v, without a call of v.Cancel, or nil.
func uncancelledPath(info *types.Info, g *cfg.CFG, v *types.Var, stmt ast.Node) *ast.ReturnStmt {
	cancels := func(nodes []ast.Node) bool {
		found := false
		for _, n := range nodes {
			ast.Inspect(n, func(n ast.Node) bool {
				if call, ok := n.(*ast.CallExpr); ok {
					if k, name, recv := groupCall(info, call); k == ours && name == "Cancel" {
						id, _ := ast.Unparen(recv).(*ast.Ident)
						found = found || id != nil && info.Uses[id] == v
					}
				}
				return !found
			})
		}
		return found
	}
	var def *cfg.Block
	var rest []ast.Node
	for _, b := range g.Blocks {
		if i := slices.Index(b.Nodes, stmt); i >= 0 {
			def, rest = b, b.Nodes[i+1:]
			break
		}
	}
	if def == nil || cancels(rest) {
		return nil
	}
	if ret := def.Return(); ret != nil {
		return ret
	}
	seen := make(map[*cfg.Block]bool)
	var search func([]*cfg.Block) *ast.ReturnStmt
	search = func(blocks []*cfg.Block) *ast.ReturnStmt {
		for _, b := range blocks {
			if seen[b] {
				continue
			}
			seen[b] = true
			if cancels(b.Nodes) {
				continue
			}
			if ret := b.Return(); ret != nil {
				return ret
			}
			if ret := search(b.Succs); ret != nil {
				return ret
			}
		}
		return nil
	}
	return search(def.Succs)
}

func reportGroupLeak(pass *analysis.Pass, fn ast.Node, v *types.Var, stmt ast.Node, call *ast.CallExpr, ret *ast.ReturnStmt) {
	parent := render(call.Args[0])
	where := "at its end" // the CFG's return for falling off the end
	if body, _ := funcBody(fn); ret.Pos() != body.Rbrace && pass.Fset.File(ret.Pos()) == pass.Fset.File(call.Pos()) {
		where = fmt.Sprintf("at line %d", pass.Fset.Position(ret.Pos()).Line)
	}
	d := analysis.Diagnostic{
		Pos: call.Pos(),
		End: call.End(),
		Message: fmt.Sprintf("%[1]s, made by waitgroup.WithContext(%[2]s), is not cancelled on every path (the function can return %[3]s without %[1]s.Cancel): its context stays registered with %[2]s until %[2]s ends; add defer %[1]s.Cancel(nil) after making %[1]s",
			v.Name(), parent, where),
	}
	waits := false
	ast.Inspect(fn, func(n ast.Node) bool {
		if c, ok := n.(*ast.CallExpr); ok {
			if k, name, recv := groupCall(pass.TypesInfo, c); k == ours && name == "Wait" {
				id, _ := ast.Unparen(recv).(*ast.Ident)
				waits = waits || id != nil && pass.TypesInfo.Uses[id] == v
			}
		}
		return true
	})
	if spec, ok := stmt.(*ast.ValueSpec); ok {
		stmt = declOf(fn, spec)
	}
	if s, ok := stmt.(ast.Stmt); ok && waits && inBlockList(fn, s) {
		indent := strings.Repeat("\t", max(pass.Fset.Position(s.Pos()).Column-1, 0))
		if at, ok := lineEnd(pass, s.End()); ok {
			d.SuggestedFixes = []analysis.SuggestedFix{{
				Message:   fmt.Sprintf("defer %s.Cancel(nil)", v.Name()),
				TextEdits: []analysis.TextEdit{{Pos: at, End: at, NewText: fmt.Appendf(nil, "\n%sdefer %s.Cancel(nil)", indent, v.Name())}},
			}}
		}
	}
	pass.Report(d)
}
