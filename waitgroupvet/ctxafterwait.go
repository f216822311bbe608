package waitgroupvet

import (
	"go/ast"
	"go/token"
	"go/types"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/analysis/passes/ctrlflow"
	"golang.org/x/tools/go/analysis/passes/inspect"
	"golang.org/x/tools/go/ast/inspector"
	"golang.org/x/tools/go/cfg"
)

// CtxAfterWait reports an errgroup context used after Wait cancelled it.
var CtxAfterWait = &analysis.Analyzer{
	Name: "ctxafterwait",
	Doc: `report errgroup's derived context used after Wait

The context that errgroup.WithContext returns is cancelled when the
group's Wait returns, so work given that context afterwards fails at once:

	g, gctx := errgroup.WithContext(ctx)
	...
	if err := g.Wait(); err != nil {
		return err
	}
	return save(gctx, results) // reported: use ctx

Reported are uses of the context on a path from a Wait of its group that
does not first assign the context again: passing it to a function,
returning, storing or capturing it. Reading what it says is not reported:
context.Cause(gctx) and method calls on it such as gctx.Err().

waitgroup's Group is not concerned: its Wait does not cancel its context.`,
	Requires: []*analysis.Analyzer{inspect.Analyzer, ctrlflow.Analyzer},
	Run:      runCtxAfterWait,
}

func runCtxAfterWait(pass *analysis.Pass) (any, error) {
	if skipPackage(pass) {
		return nil, nil
	}
	in := pass.ResultOf[inspect.Analyzer].(*inspector.Inspector)
	cfgs := pass.ResultOf[ctrlflow.Analyzer].(*ctrlflow.CFGs)
	info := pass.TypesInfo
	eachFuncBody(in, func(fn ast.Node, body *ast.BlockStmt) {
		var g *cfg.CFG
		reported := make(map[token.Pos]bool)
		ast.Inspect(body, func(n ast.Node) bool {
			if _, ok := n.(*ast.FuncLit); ok {
				return false
			}
			as, ok := n.(*ast.AssignStmt)
			if !ok || len(as.Lhs) != 2 || len(as.Rhs) != 1 {
				return true
			}
			call, ok := ast.Unparen(as.Rhs[0]).(*ast.CallExpr)
			if !ok || !isFunc(callee(info, call), errgroupPath, "WithContext") {
				return true
			}
			group, derived := assignedVar(info, as.Lhs[0]), assignedVar(info, as.Lhs[1])
			if group == nil || derived == nil {
				return true
			}
			if g == nil {
				if d, ok := fn.(*ast.FuncDecl); ok {
					g = cfgs.FuncDecl(d)
				} else {
					g = cfgs.FuncLit(fn.(*ast.FuncLit))
				}
			}
			for _, id := range usesAfterWait(info, g, group, derived) {
				if !reported[id.Pos()] {
					reported[id.Pos()] = true
					pass.ReportRangef(id, "%[1]s is used after %[2]s.Wait returned, but errgroup cancels it when Wait returns: use %[3]s, or a context that outlives %[2]s, for work after %[2]s.Wait",
						derived.Name(), group.Name(), render(call.Args[0]))
				}
			}
			return true
		})
	})
	return nil, nil
}

// usesAfterWait returns the uses of ctx that the CFG g can reach from a
// call of group.Wait without passing an assignment to ctx.
func usesAfterWait(info *types.Info, g *cfg.CFG, group, ctx *types.Var) []*ast.Ident {
	var out []*ast.Ident
	// scan appends the uses of ctx in n after pos and reports whether n
	// assigns ctx, which ends the path.
	scan := func(n ast.Node, after token.Pos) (assigns bool) {
		assigned := make(map[ast.Node]bool) // ctx on the left of an assignment
		ast.PreorderStack(n, nil, func(m ast.Node, stack []ast.Node) bool {
			switch m := m.(type) {
			case *ast.AssignStmt:
				for _, l := range m.Lhs {
					if assignedVar(info, l) == ctx {
						assigns, assigned[l] = true, true
					}
				}
			case *ast.Ident:
				if info.Uses[m] == ctx && m.Pos() > after && !assigned[m] && !inspectsOnly(info, m, stack) {
					out = append(out, m)
				}
			}
			return true
		})
		return assigns
	}
	waitIn := func(n ast.Node) token.Pos {
		end := token.NoPos
		walkGoroutine(n, func(m ast.Node) bool {
			if _, ok := m.(*ast.DeferStmt); ok {
				return false // waits when the function returns
			}
			if call, ok := m.(*ast.CallExpr); ok && end == token.NoPos {
				if k, name, recv := groupCall(info, call); k == errgroupK && name == "Wait" {
					if id, ok := ast.Unparen(recv).(*ast.Ident); ok && info.Uses[id] == group {
						end = call.End()
					}
				}
			}
			return end == token.NoPos
		})
		return end
	}
	seen := make(map[*cfg.Block]bool)
	var follow func(blocks []*cfg.Block)
	follow = func(blocks []*cfg.Block) {
		for _, b := range blocks {
			if seen[b] {
				continue
			}
			seen[b] = true
			if !scanNodes(b.Nodes, scan) {
				follow(b.Succs)
			}
		}
	}
	for _, b := range g.Blocks {
		for i, n := range b.Nodes {
			if end := waitIn(n); end != token.NoPos {
				if !scan(n, end) && !scanNodes(b.Nodes[i+1:], scan) {
					follow(b.Succs)
				}
			}
		}
	}
	return out
}

// scanNodes calls scan on each node until one ends the path, and reports
// whether one did.
func scanNodes(nodes []ast.Node, scan func(ast.Node, token.Pos) bool) bool {
	for _, n := range nodes {
		if scan(n, token.NoPos) {
			return true
		}
	}
	return false
}

// inspectsOnly reports whether the use id, under stack, only reads the
// context's state: a method call on it, or context.Cause(id).
func inspectsOnly(info *types.Info, id *ast.Ident, stack []ast.Node) bool {
	if len(stack) == 0 {
		return false
	}
	switch p := stack[len(stack)-1].(type) {
	case *ast.SelectorExpr:
		return p.X == id
	case *ast.CallExpr:
		return isFunc(callee(info, p), contextPath, "Cause")
	}
	return false
}
