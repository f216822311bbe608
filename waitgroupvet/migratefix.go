package waitgroupvet

import (
	"fmt"
	"go/ast"
	"go/types"
	"slices"
	"strings"

	"golang.org/x/tools/go/analysis"
)

// The errgroup side of Migrate, and the fix that both sides share.

// errgroupUses checks that every use of m.v in fn is a Go or TryGo of a
// function literal, a SetLimit or a Wait, and records the edits.
func (m *migration) errgroupUses(fn ast.Node) bool {
	info := m.pass.TypesInfo
	ok := true
	ast.PreorderStack(fn, nil, func(n ast.Node, stack []ast.Node) bool {
		id, isID := n.(*ast.Ident)
		if !ok || !isID || info.Uses[id] != m.v {
			return ok
		}
		call, _, _, _ := methodStmt(stack, id)
		if call == nil {
			ok = false
			return false
		}
		switch call.Fun.(*ast.SelectorExpr).Sel.Name {
		case "Go", "TryGo":
			lit, isLit := ast.Unparen(call.Args[0]).(*ast.FuncLit)
			if !isLit {
				ok = false
				return false
			}
			p := lit.Type.Params
			m.edits = append(m.edits, analysis.TextEdit{Pos: p.Opening, End: p.Closing + 1, NewText: []byte("(\x00param)")})
			m.tasks = append(m.tasks, lit)
			m.uses = append(m.uses, call.Pos())
		case "Wait":
			m.edits = append(m.edits, analysis.TextEdit{Pos: call.Lparen, End: call.Rparen + 1, NewText: []byte("(\x00context.Background())")})
			m.uses = append(m.uses, call.Pos())
			m.waited = true
		case "SetLimit":
		default:
			ok = false
		}
		return ok
	})
	return ok
}

// finish returns the fix that replaces the declaration d and adds the
// imports, or nil if there is none to offer.
func (m *migration) finish(fn ast.Node, d *ast.DeclStmt) *analysis.SuggestedFix {
	info := m.pass.TypesInfo
	var ctxs []*types.Var
	for _, lit := range m.tasks {
		for _, v := range contextVars(info, lit) {
			if !slices.Contains(ctxs, v) {
				ctxs = append(ctxs, v)
			}
		}
	}
	file := fileOf(m.pass, d.Pos())
	ctxName, ctxEdit, ok := importName(m.pass, file, contextPath, "context", m.uses...)
	wgName, wgEdit, ok2 := importName(m.pass, file, waitgroupPath, "waitgroup", m.uses...)
	if len(ctxs) > 1 || !ok || !ok2 {
		return nil
	}
	name := m.v.Name()
	param := ctxName + ".Context"
	decl := fmt.Sprintf("%s := %s.New()", name, wgName)
	if len(ctxs) == 1 {
		c := ctxs[0]
		if lookup(m.pass, c.Name(), d.Pos()) != c || !inBlockList(fn, d) || m.shadows(c) {
			return nil
		}
		param = c.Name() + " " + param
		decl = fmt.Sprintf("%s := %s.WithContext(%s)", name, wgName, c.Name())
		cancel := fmt.Sprintf("\n%sdefer %s.Cancel(nil)", indentOf(m.pass, d.Pos()), name)
		if at, ok := lineEnd(m.pass, d.End()); ok {
			m.edits = append(m.edits, analysis.TextEdit{Pos: at, End: at, NewText: []byte(cancel)})
		} else {
			decl += cancel
		}
	}
	edits := append(m.edits, analysis.TextEdit{Pos: d.Pos(), End: d.End(), NewText: []byte(decl)})
	for i := range edits {
		t := strings.ReplaceAll(string(edits[i].NewText), "\x00param", param)
		t = strings.ReplaceAll(t, "\x00context", ctxName)
		edits[i].NewText = []byte(t)
	}
	// An import of sync or errgroup left unused is removed by the
	// formatting that drivers (waitgroupvet -fix, go fix, gopls) apply
	// after fixes: deleting it here would conflict with the fix of another
	// variable in the same file, while equal additions merge.
	for _, e := range []*analysis.TextEdit{ctxEdit, wgEdit} {
		if e != nil {
			edits = append(edits, *e)
		}
	}
	return &analysis.SuggestedFix{Message: fmt.Sprintf("migrate %s to waitgroup.Group", name), TextEdits: edits}
}

// shadows reports whether naming the tasks' parameter like c would hide
// another variable of that name that a task uses.
func (m *migration) shadows(c *types.Var) bool {
	for _, lit := range m.tasks {
		found := false
		ast.Inspect(lit.Body, func(n ast.Node) bool {
			if id, ok := n.(*ast.Ident); ok && id.Name == c.Name() {
				obj := m.pass.TypesInfo.Uses[id]
				found = found || obj != nil && obj != c && !within(obj.Pos(), lit)
			}
			return !found
		})
		if found {
			return true
		}
	}
	return false
}
