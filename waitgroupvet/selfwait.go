package waitgroupvet

import (
	"fmt"
	"go/ast"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/analysis/passes/inspect"
	"golang.org/x/tools/go/ast/inspector"
)

// SelfWait reports a task that waits for its own group.
var SelfWait = &analysis.Analyzer{
	Name: "selfwait",
	Doc: `report Wait called inside one of the group's own tasks

A group's Wait returns once all of its tasks are done, so a task that calls
it waits for itself: errgroup's and sync.WaitGroup's Wait never return, and
waitgroup's gives up only when its ctx ends.

	g.Go(func(ctx context.Context) error {
		...
		return g.Wait(ctx) // reported: wait outside the group's tasks
	})

Reported inside a function literal given to Go or TryGo (waitgroup's Group
and Results, errgroup, sync.WaitGroup), for a Wait on the same group or on
a group that waits for it (g for a task of sub := g.Sub(), or of
waitgroup.NewResults(g)), and inside a go statement's function literal that
defers Done on the group it then waits for. A Wait in a goroutine that the
task starts, or in a function literal it only stores, is not reported.`,
	Requires: []*analysis.Analyzer{inspect.Analyzer},
	Run:      runSelfWait,
}

func runSelfWait(pass *analysis.Pass) (any, error) {
	if skipPackage(pass) {
		return nil, nil
	}
	in := pass.ResultOf[inspect.Analyzer].(*inspector.Inspector)
	info := pass.TypesInfo
	in.WithStack([]ast.Node{(*ast.CallExpr)(nil), (*ast.GoStmt)(nil)}, func(n ast.Node, push bool, stack []ast.Node) bool {
		if !push {
			return true
		}
		scope := enclosingScope(stack)
		switch n := n.(type) {
		case *ast.CallExpr:
			k, name, _ := groupCall(info, n)
			if k == notGroup || name != "Go" && name != "TryGo" {
				return true
			}
			if lit, ok := ast.Unparen(n.Args[0]).(*ast.FuncLit); ok {
				checkSelfWait(pass, scope, lit, recvRef(info, n), "a task of")
			}
		case *ast.GoStmt:
			lit, ok := ast.Unparen(n.Call.Fun).(*ast.FuncLit)
			if !ok {
				return true
			}
			// The goroutine is a task of the groups it defers Done on.
			seen := make(map[ref]bool)
			walkGoroutine(lit.Body, func(n ast.Node) bool {
				d, ok := n.(*ast.DeferStmt)
				if !ok {
					return true
				}
				if k, name, _ := groupCall(info, d.Call); (k == syncWG || k == ours) && name == "Done" && !seen[recvRef(info, d.Call)] {
					seen[recvRef(info, d.Call)] = true
					checkSelfWait(pass, scope, lit, recvRef(info, d.Call), "a goroutine that defers Done on")
				}
				return true
			})
		}
		return true
	})
	return nil, nil
}

// checkSelfWait reports the Waits in task, a task of the group g, on g or on a group that waits for g.
func checkSelfWait(pass *analysis.Pass, scope ast.Node, task *ast.FuncLit, g ref, what string) {
	if !g.valid() {
		return
	}
	info := pass.TypesInfo
	waiters := waitersOf(pass, scope, g)
	walkGoroutine(task.Body, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok {
			return true
		}
		wk, name, recv := groupCall(info, call)
		if name != "Wait" || wk == notGroup {
			return true
		}
		w := recvRef(info, call)
		via, ok := waiters[w]
		if !ok {
			return true
		}
		wname := render(recv)
		msg := fmt.Sprintf("%s.Wait is called inside %s %s", wname, what, wname)
		if via != "" {
			msg = fmt.Sprintf("%s.Wait is called inside %s %s, which %s waits for", wname, what, via, wname)
		}
		switch wk {
		case ours, results:
			msg += ", so it waits for itself and gives up only when its ctx ends"
		default:
			msg += ", so it waits for itself and never returns"
		}
		pass.ReportRangef(call, "%s: call %s.Wait outside %s's tasks", msg, wname, wname)
		return true
	})
}

// waitersOf returns the refs of the groups whose Wait waits for g: g itself
// (mapped to "") and the groups it was made from in scope by Sub or
// NewResults (mapped to the name of the group made, as in the task).
func waitersOf(pass *analysis.Pass, scope ast.Node, g ref) map[ref]string {
	info := pass.TypesInfo
	out := map[ref]string{g: ""}
	if g.fields != "" {
		return out
	}
	name := g.root.Name()
	for cur := g; len(out) < 8; {
		var parent ref
		eachAssign(info, scope, cur.root, func(e ast.Expr) {
			call, ok := ast.Unparen(e).(*ast.CallExpr)
			if !ok {
				return
			}
			f := callee(info, call)
			switch {
			case isMethod(f, waitgroupPath, "Group", "Sub"):
				parent = recvRef(info, call)
			case isFunc(f, waitgroupPath, "NewResults") && len(call.Args) == 1:
				parent = refOf(info, call.Args[0])
			}
		})
		if !parent.valid() {
			break
		}
		if _, seen := out[parent]; seen {
			break
		}
		out[parent] = name
		cur = parent
		if cur.fields != "" {
			break
		}
	}
	return out
}
