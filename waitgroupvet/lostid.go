package waitgroupvet

import (
	"go/ast"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/analysis/passes/inspect"
	"golang.org/x/tools/go/ast/inspector"
)

// LostID reports a Group.Add whose ID is thrown away.
var LostID = &analysis.Analyzer{
	Name: "lostid",
	Doc: `report a discarded ID from waitgroup's Group.Add

The ID that (*waitgroup.Group).Add returns is the only way to mark that work
done: Done takes it, and Wait does not return nil while it is pending. An Add
whose result is discarded, as a statement or assigned to _, can never be
done, so every later Wait of the group gives up or blocks:

	g.Add()          // reported
	_ = g.Add()      // reported
	id := g.Add()    // keep it, and call g.Done(id) when the work ends

sync.WaitGroup's Add(1), which returns nothing, is a different method and
is not reported, and neither is an Add in a _test.go file, where work that
is never done is how a test makes a stuck task.`,
	Requires: []*analysis.Analyzer{inspect.Analyzer},
	Run:      runLostID,
}

func runLostID(pass *analysis.Pass) (any, error) {
	if skipPackage(pass) {
		return nil, nil
	}
	in := pass.ResultOf[inspect.Analyzer].(*inspector.Inspector)
	filter := []ast.Node{(*ast.ExprStmt)(nil), (*ast.AssignStmt)(nil), (*ast.ValueSpec)(nil), (*ast.GoStmt)(nil), (*ast.DeferStmt)(nil)}
	in.Preorder(filter, func(n ast.Node) {
		switch n := n.(type) {
		case *ast.ExprStmt:
			reportLostID(pass, n.X)
		case *ast.GoStmt:
			reportLostID(pass, n.Call)
		case *ast.DeferStmt:
			reportLostID(pass, n.Call)
		case *ast.AssignStmt:
			if len(n.Lhs) == len(n.Rhs) {
				for i, l := range n.Lhs {
					if isBlank(l) {
						reportLostID(pass, n.Rhs[i])
					}
				}
			}
		case *ast.ValueSpec:
			if len(n.Names) == len(n.Values) {
				for i, name := range n.Names {
					if name.Name == "_" {
						reportLostID(pass, n.Values[i])
					}
				}
			}
		}
	})
	return nil, nil
}

// reportLostID reports e if it is a call of Group.Add.
func reportLostID(pass *analysis.Pass, e ast.Expr) {
	call, ok := ast.Unparen(e).(*ast.CallExpr)
	if !ok {
		return
	}
	k, name, recv := groupCall(pass.TypesInfo, call)
	if k != ours || name != "Add" || inTest(pass, call.Pos()) {
		return
	}
	g := render(recv)
	pass.ReportRangef(call, "the ID returned by %[1]s.Add is discarded, so %[1]s.Done can never be called with it and %[1]s.Wait will not return nil; keep it (id := %[1]s.Add(...)) and call %[1]s.Done(id) when the work ends", g)
}

func isBlank(e ast.Expr) bool {
	id, ok := ast.Unparen(e).(*ast.Ident)
	return ok && id.Name == "_"
}
