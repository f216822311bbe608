package waitgroupvet

import (
	"fmt"
	"go/ast"
	"go/token"
	"go/types"
	"path/filepath"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/analysis/passes/inspect"
	"golang.org/x/tools/go/ast/inspector"
	"golang.org/x/tools/go/types/typeutil"
)

// AddInGo reports an Add made inside the goroutine it is meant to cover.
var AddInGo = &analysis.Analyzer{
	Name: "addingo",
	Doc: `report Add called inside the goroutine it accounts for

A goroutine that counts itself in, with sync.WaitGroup's Add or
waitgroup's Group.Add, races with the Wait meant to cover it: Wait may run
before the goroutine does, see nothing pending, and return.

	go func() {
		log.Print("starting")
		wg.Add(1) // reported: call it before the go statement
		defer wg.Done()
		...
	}()
	wg.Wait()

The Add may be at any statement of the goroutine's function, which is either
the function literal of the go statement or a function of the same package
that it starts (go worker(&wg)). To keep to certain mistakes, the goroutine
must also mark the same work done (Done on the same WaitGroup, as often as
Add counted; Done with the ID that Add returned), and the spawning function,
or for a field any function of the package, must Wait on the same variable.
An Add for work that the goroutine hands to a new goroutine of its own is
not reported.`,
	Requires: []*analysis.Analyzer{inspect.Analyzer},
	Run:      runAddInGo,
}

// A site is a call of Wait or Add on a sync.WaitGroup or Group.
type site struct {
	r    ref
	decl *ast.FuncDecl // the function declaration holding it, or nil
	fn   ast.Node      // the innermost function holding it, or nil
	pos  token.Pos
}

func runAddInGo(pass *analysis.Pass) (any, error) {
	if skipPackage(pass) {
		return nil, nil
	}
	in := pass.ResultOf[inspect.Analyzer].(*inspector.Inspector)
	decls := make(map[*types.Func]*ast.FuncDecl)
	var waits, adds []site
	in.WithStack([]ast.Node{(*ast.FuncDecl)(nil), (*ast.CallExpr)(nil)}, func(n ast.Node, push bool, stack []ast.Node) bool {
		switch n := n.(type) {
		case *ast.FuncDecl:
			if f, ok := pass.TypesInfo.Defs[n.Name].(*types.Func); ok && push {
				decls[f] = n
			}
		case *ast.CallExpr:
			k, name, _ := groupCall(pass.TypesInfo, n)
			if !push || k != ours && k != syncWG {
				break
			}
			s := site{recvRef(pass.TypesInfo, n), enclosingDecl(stack), innermostFunc(stack), n.Pos()}
			switch name {
			case "Wait":
				waits = append(waits, s)
			case "Add":
				adds = append(adds, s)
			}
		}
		return true
	})
	reported := make(map[token.Pos]bool)
	in.WithStack([]ast.Node{(*ast.GoStmt)(nil)}, func(n ast.Node, push bool, stack []ast.Node) bool {
		if !push {
			return true
		}
		gs := n.(*ast.GoStmt)
		checkGoroutine(pass, gs, enclosingDecl(stack), innermostFunc(stack), decls, waits, adds, reported)
		return true
	})
	return nil, nil
}

// checkGoroutine looks for Adds in the function that gs starts.
func checkGoroutine(pass *analysis.Pass, gs *ast.GoStmt, spawner *ast.FuncDecl, fn ast.Node, decls map[*types.Func]*ast.FuncDecl, waits, adds []site, reported map[token.Pos]bool) {
	info := pass.TypesInfo
	bind := make(map[types.Object]ast.Expr) // parameter of the goroutine's function -> argument
	var body *ast.BlockStmt
	var ftype *ast.FuncType
	where := "the goroutine it accounts for"
	captures := false // whether the function sees the spawner's variables
	if lit, ok := ast.Unparen(gs.Call.Fun).(*ast.FuncLit); ok {
		body, ftype, captures = lit.Body, lit.Type, true
	} else {
		f := typeutil.StaticCallee(info, gs.Call)
		decl := decls[originOf(f)]
		if decl == nil || decl.Body == nil {
			return
		}
		body, ftype = decl.Body, decl.Type
		pos := pass.Fset.Position(gs.Pos())
		where = fmt.Sprintf("%s, which the go statement at %s:%d runs as a new goroutine", render(gs.Call.Fun), filepath.Base(pos.Filename), pos.Line)
		if decl.Recv != nil && len(decl.Recv.List[0].Names) == 1 {
			sel, _ := ast.Unparen(gs.Call.Fun).(*ast.SelectorExpr)
			if s := info.Selections[sel]; sel != nil && s != nil && len(s.Index()) == 1 {
				bind[info.Defs[decl.Recv.List[0].Names[0]]] = sel.X
			}
		}
	}
	i := 0
	for _, field := range ftype.Params.List {
		for _, name := range field.Names {
			if _, variadic := field.Type.(*ast.Ellipsis); !variadic && i < len(gs.Call.Args) {
				bind[info.Defs[name]] = gs.Call.Args[i]
			}
			i++
		}
		if len(field.Names) == 0 {
			i++
		}
	}
	// translate returns r, a ref in the goroutine's function, as seen by
	// the spawner.
	translate := func(r ref) ref {
		if arg, ok := bind[r.root]; ok {
			s := refOf(info, arg)
			if !s.valid() {
				return s
			}
			s.fields += r.fields
			if r.last != nil {
				s.last = r.last
			}
			return s
		}
		if r.root.Parent() == pass.Pkg.Scope() || captures && !within(r.root.Pos(), body) {
			return r
		}
		return ref{}
	}
	// waited reports whether something Waits for s: for a field, anywhere
	// in the package; for a variable, in the spawner.
	waited := func(s ref) bool {
		for _, w := range waits {
			if s.last != nil && w.r.last == s.last ||
				w.r == s && (s.root.Parent() == pass.Pkg.Scope() || spawner != nil && w.decl == spawner) {
				return true
			}
		}
		return false
	}
	// addedBefore reports whether the spawner Adds to s before gs, in the
	// goroutine that runs gs.
	addedBefore := func(s ref) bool {
		for _, a := range adds {
			if fn != nil && a.fn == fn && a.pos < gs.Pos() &&
				(s.last != nil && a.r.last == s.last || a.r == s) {
				return true
			}
		}
		return false
	}
	for _, a := range addsInGoroutine(info, body) {
		s := translate(a.r)
		// An Add in the spawner before the go statement may count the
		// goroutine in already (one that counts in the goroutines it
		// starts, in turn).
		if reported[a.call.Pos()] || !s.valid() || !waited(s) || addedBefore(s) {
			continue
		}
		reported[a.call.Pos()] = true
		g := render(a.recv)
		msg := fmt.Sprintf("%[1]s.Add is called inside %[2]s, so %[1]s.Wait may return before it runs: call %[1]s.Add before the go statement", g, where)
		if a.k == ours {
			msg += fmt.Sprintf(", or start the work with %s.Go", g)
		}
		pass.Report(analysis.Diagnostic{Pos: a.call.Pos(), End: a.call.End(), Message: msg})
	}
}

func originOf(f *types.Func) *types.Func {
	if f == nil {
		return nil
	}
	return f.Origin()
}
