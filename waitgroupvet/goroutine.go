package waitgroupvet

import (
	"cmp"
	"go/ast"
	"go/constant"
	"go/types"
	"slices"
)

// Counting what a goroutine adds and marks done, for AddInGo.

// An add is an Add call that a goroutine both makes and marks done.
type add struct {
	call *ast.CallExpr
	recv ast.Expr
	r    ref
	k    kind
}

// addsInGoroutine returns the Adds of body that body itself marks done, for
// groups that body does not otherwise hold work of (a Done more than the
// Adds counted, or a Done of an ID from elsewhere, means the goroutine was
// counted in before it started).
func addsInGoroutine(info *types.Info, body *ast.BlockStmt) []add {
	type count struct {
		adds  []add
		delta int64 // sum of the sync Adds' constant deltas, -1 if unknown
		dones int
		ids   map[types.Object]*ast.CallExpr // ID variable -> the Add that set it
		done  map[*ast.CallExpr]bool         // our Adds whose ID is Done here
		other bool                           // a Done of an ID not from here
	}
	counts := make(map[ref]*count)
	get := func(r ref) *count {
		if counts[r] == nil {
			counts[r] = &count{ids: make(map[types.Object]*ast.CallExpr), done: make(map[*ast.CallExpr]bool)}
		}
		return counts[r]
	}
	var dones []*ast.CallExpr // ours, resolved once every ID is known
	bindID := func(lhs, rhs ast.Expr) {
		call, ok := ast.Unparen(rhs).(*ast.CallExpr)
		id, ok2 := lhs.(*ast.Ident)
		if !ok || !ok2 {
			return
		}
		if k, name, _ := groupCall(info, call); k == ours && name == "Add" {
			obj := info.Defs[id]
			if obj == nil {
				obj = info.Uses[id]
			}
			if obj != nil {
				get(recvRef(info, call)).ids[obj] = call
			}
		}
	}
	walkGoroutine(body, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.AssignStmt:
			if len(n.Lhs) == len(n.Rhs) {
				for i := range n.Lhs {
					bindID(n.Lhs[i], n.Rhs[i])
				}
			}
		case *ast.ValueSpec:
			if len(n.Names) == len(n.Values) {
				for i := range n.Names {
					bindID(n.Names[i], n.Values[i])
				}
			}
		case *ast.CallExpr:
			k, name, recv := groupCall(info, n)
			if k != ours && k != syncWG {
				return true
			}
			r := recvRef(info, n)
			if !r.valid() {
				return true
			}
			c := get(r)
			switch {
			case name == "Add" && k == syncWG:
				if d, ok := positiveConst(info, n.Args[0]); ok && c.delta >= 0 {
					c.delta += d
				} else {
					c.delta = -1
				}
				c.adds = append(c.adds, add{n, recv, r, k})
			case name == "Add":
				c.adds = append(c.adds, add{n, recv, r, k})
			case name == "Done" && k == syncWG:
				c.dones++
			case name == "Done":
				dones = append(dones, n)
			}
		}
		return true
	})
	for _, d := range dones {
		c := get(recvRef(info, d))
		switch arg := ast.Unparen(d.Args[0]).(type) {
		case *ast.CallExpr:
			c.done[arg] = true // g.Done(g.Add())
		case *ast.Ident:
			if a := c.ids[info.Uses[arg]]; a != nil {
				c.done[a] = true
			} else {
				c.other = true
			}
		default:
			c.other = true
		}
	}
	var out []add
	for _, c := range counts {
		for _, a := range c.adds {
			if a.k == syncWG && c.dones >= 1 && int64(c.dones) <= c.delta ||
				a.k == ours && c.done[a.call] && !c.other {
				out = append(out, a)
			}
		}
	}
	slices.SortFunc(out, func(a, b add) int { return cmp.Compare(a.call.Pos(), b.call.Pos()) })
	return out
}

// positiveConst returns the value of e if it is a positive integer constant.
func positiveConst(info *types.Info, e ast.Expr) (int64, bool) {
	v := info.Types[e].Value
	if v == nil || v.Kind() != constant.Int {
		return 0, false
	}
	d, ok := constant.Int64Val(v)
	return d, ok && d > 0
}

// innermostFunc returns the innermost function literal or declaration in
// stack, or nil.
func innermostFunc(stack []ast.Node) ast.Node {
	for i := len(stack) - 1; i >= 0; i-- {
		switch n := stack[i].(type) {
		case *ast.FuncLit, *ast.FuncDecl:
			return n
		}
	}
	return nil
}
