package waitgroupvet

import (
	"fmt"
	"go/ast"
	"go/token"
	"go/types"
	"strings"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/analysis/passes/inspect"
	"golang.org/x/tools/go/ast/inspector"
)

// Migrate, off by default, offers to turn a sync.WaitGroup or an
// errgroup.Group into a waitgroup.Group where the code maps one to one.
var Migrate = &analysis.Analyzer{
	Name: "migrate",
	Doc: `offer to migrate a sync.WaitGroup or errgroup.Group to a waitgroup.Group

Off by default (waitgroupvet -migrate ./..., and -fix to apply). A local
variable is reported when all of its uses map one to one onto a
waitgroup.Group, with a suggested fix that rewrites them:

	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		work()
	}()
	wg.Wait()

becomes

	wg := waitgroup.New()
	wg.Go(func(context.Context) error {
		work()
		return nil
	})
	if err := wg.Wait(context.Background()); err != nil {
		panic(err) // a task panicked
	}

For a sync.WaitGroup: var wg sync.WaitGroup, each Add(1) directly followed
by go func() { defer wg.Done(); ... }(), and Wait() statements. For an
errgroup.Group: var g errgroup.Group, Go and TryGo with function literals,
SetLimit and Wait. If the tasks use one context variable from outside, the
group is made with waitgroup.WithContext from it (and cancelled when the
function returns) and the tasks get it as their parameter; with two or
more, nothing is offered. The migrated Wait returns every task error,
joined, where errgroup's returned the first, and a task's panic as an
error, where sync.WaitGroup crashed (the fix panics with it). An import of
sync or errgroup left unused is removed by the formatting that -fix
applies.`,
	Requires: []*analysis.Analyzer{inspect.Analyzer},
	Run:      runMigrate,
}

func runMigrate(pass *analysis.Pass) (any, error) {
	if skipPackage(pass) {
		return nil, nil
	}
	in := pass.ResultOf[inspect.Analyzer].(*inspector.Inspector)
	eachFuncBody(in, func(fn ast.Node, body *ast.BlockStmt) {
		ast.Inspect(body, func(n ast.Node) bool {
			if _, ok := n.(*ast.FuncLit); ok {
				return false
			}
			if d, ok := n.(*ast.DeclStmt); ok {
				migrateDecl(pass, fn, d)
			}
			return true
		})
	})
	return nil, nil
}

// A migration collects the edits of one variable.
type migration struct {
	pass   *analysis.Pass
	v      *types.Var
	edits  []analysis.TextEdit
	tasks  []*ast.FuncLit
	uses   []token.Pos // where the new package names must resolve
	waited bool        // whether the variable's Wait is called
}

func migrateDecl(pass *analysis.Pass, fn ast.Node, d *ast.DeclStmt) {
	gd, ok := d.Decl.(*ast.GenDecl)
	if !ok || gd.Tok != token.VAR || len(gd.Specs) != 1 {
		return
	}
	spec := gd.Specs[0].(*ast.ValueSpec)
	if len(spec.Names) != 1 || len(spec.Values) != 0 {
		return
	}
	v, _ := pass.TypesInfo.Defs[spec.Names[0]].(*types.Var)
	if v == nil {
		return
	}
	m := &migration{pass: pass, v: v, uses: []token.Pos{d.Pos()}}
	var ok2 bool
	var what string
	switch named, _ := types.Unalias(v.Type()).(*types.Named); {
	case named == nil:
		return
	case isNamed(named, syncPath, "WaitGroup"):
		ok2, what = m.syncUses(fn), "sync.WaitGroup"
	case isNamed(named, errgroupPath, "Group"):
		ok2, what = m.errgroupUses(fn), "errgroup.Group"
	}
	if !ok2 || len(m.tasks) == 0 || !m.waited {
		return
	}
	name := v.Name()
	diag := analysis.Diagnostic{
		Pos: spec.Names[0].Pos(),
		End: spec.Names[0].End(),
		Message: fmt.Sprintf("%s %s maps one to one to a waitgroup.Group, which recovers panics, names stuck tasks and takes a deadline in Wait: start its tasks with %s.Go(func(ctx context.Context) error {...}) and wait with %s.Wait(ctx)",
			what, name, name, name),
	}
	if fix := m.finish(fn, d); fix != nil {
		diag.SuggestedFixes = []analysis.SuggestedFix{*fix}
	}
	pass.Report(diag)
}

// syncUses checks that every use of m.v in fn is an Add(1) followed by
// go func() { defer wg.Done(); ... }(), or a Wait() statement, and records
// the edits.
func (m *migration) syncUses(fn ast.Node) bool {
	info := m.pass.TypesInfo
	dones := make(map[*ast.Ident]bool) // the Done of each pair
	var others []*ast.Ident
	ok := true
	ast.PreorderStack(fn, nil, func(n ast.Node, stack []ast.Node) bool {
		id, isID := n.(*ast.Ident)
		if !ok || !isID || info.Uses[id] != m.v {
			return ok
		}
		call, stmt, block, i := methodStmt(stack, id)
		switch {
		case call == nil:
			ok = false
		case call.Fun.(*ast.SelectorExpr).Sel.Name == "Add":
			d := m.syncPair(call, block, i)
			ok = d != nil
			dones[d] = true
		case call.Fun.(*ast.SelectorExpr).Sel.Name == "Wait" && stmt != nil:
			indent := indentOf(m.pass, stmt.Pos())
			m.edits = append(m.edits, analysis.TextEdit{Pos: stmt.Pos(), End: stmt.End(), NewText: fmt.Appendf(nil,
				"if err := %s.Wait(\x00context.Background()); err != nil {\n%s\tpanic(err) // a task panicked\n%s}", m.v.Name(), indent, indent)})
			m.uses = append(m.uses, stmt.Pos())
			m.waited = true
		default:
			others = append(others, id)
		}
		return ok
	})
	for _, id := range others {
		ok = ok && dones[id]
	}
	return ok
}

// methodStmt returns the method call on id under stack and, if that call
// is an expression statement of a block, the statement, block and index.
func methodStmt(stack []ast.Node, id *ast.Ident) (*ast.CallExpr, ast.Stmt, *ast.BlockStmt, int) {
	n := len(stack)
	if n < 2 {
		return nil, nil, nil, 0
	}
	sel, ok := stack[n-1].(*ast.SelectorExpr)
	call, ok2 := stack[n-2].(*ast.CallExpr)
	if !ok || !ok2 || call.Fun != sel || sel.X != id {
		return nil, nil, nil, 0
	}
	if n < 4 {
		return call, nil, nil, 0
	}
	es, ok := stack[n-3].(*ast.ExprStmt)
	block, ok2 := stack[n-4].(*ast.BlockStmt)
	if !ok || !ok2 {
		return call, nil, nil, 0
	}
	for i, s := range block.List {
		if s == es {
			return call, es, block, i
		}
	}
	return call, nil, nil, 0
}

// syncPair checks that add, the call of Add at block.List[i], adds 1 and is
// followed by go func() { defer wg.Done(); ... }(), records the edit that
// turns both into a call of Go, and returns the Done's identifier, or nil.
func (m *migration) syncPair(add *ast.CallExpr, block *ast.BlockStmt, i int) *ast.Ident {
	info := m.pass.TypesInfo
	if block == nil || i+1 >= len(block.List) || len(add.Args) != 1 {
		return nil
	}
	if d, ok := positiveConst(info, add.Args[0]); !ok || d != 1 {
		return nil
	}
	gs, ok := block.List[i+1].(*ast.GoStmt)
	if !ok || len(gs.Call.Args) != 0 {
		return nil
	}
	lit, ok := ast.Unparen(gs.Call.Fun).(*ast.FuncLit)
	if !ok || lit.Type.Params.NumFields() != 0 || lit.Type.Results != nil || len(lit.Body.List) == 0 {
		return nil
	}
	ds, ok := lit.Body.List[0].(*ast.DeferStmt)
	if !ok || len(ds.Call.Args) != 0 {
		return nil
	}
	sel, ok := ast.Unparen(ds.Call.Fun).(*ast.SelectorExpr)
	if !ok || sel.Sel.Name != "Done" {
		return nil
	}
	done, ok := ast.Unparen(sel.X).(*ast.Ident)
	if !ok || info.Uses[done] != m.v || len(usesOf(info, lit.Body, m.v)) != 1 {
		return nil // not wg.Done(), or the goroutine uses wg again
	}
	text, err := source(m.pass, ds.End(), lit.Body.Rbrace)
	if err != nil {
		return nil
	}
	// Bare returns of the goroutine return nil; replace from the end so
	// that offsets stay valid.
	var returns []*ast.ReturnStmt
	walkGoroutine(lit.Body, func(n ast.Node) bool {
		if r, ok := n.(*ast.ReturnStmt); ok {
			returns = append(returns, r)
		}
		return true
	})
	for j := len(returns) - 1; j >= 0; j-- {
		at := int(returns[j].Pos() - ds.End())
		text = text[:at] + "return nil" + text[at+len("return"):]
	}
	outer := indentOf(m.pass, gs.Pos())
	var b strings.Builder
	fmt.Fprintf(&b, "%s.Go(func(\x00param) error {", m.v.Name())
	if strings.Contains(text, "\n") {
		b.WriteString(strings.TrimRight(text, " \t"))
	} else {
		fmt.Fprintf(&b, "\n%s\t%s\n", outer, strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(text), ";")))
	}
	if last := lit.Body.List[len(lit.Body.List)-1]; !terminates(last) {
		fmt.Fprintf(&b, "%s\treturn nil\n", outer)
	}
	fmt.Fprintf(&b, "%s})", outer)
	m.edits = append(m.edits, analysis.TextEdit{Pos: block.List[i].Pos(), End: gs.End(), NewText: []byte(b.String())})
	m.tasks = append(m.tasks, lit)
	m.uses = append(m.uses, gs.Pos())
	return done
}

// terminates reports whether s, the last statement of a task, makes a
// return after it unneeded: a return, or a panic.
func terminates(s ast.Stmt) bool {
	switch s := s.(type) {
	case *ast.ReturnStmt:
		return true
	case *ast.ExprStmt:
		call, ok := s.X.(*ast.CallExpr)
		id, ok2 := ast.Unparen(call.Fun).(*ast.Ident)
		return ok && ok2 && id.Name == "panic"
	}
	return false
}
