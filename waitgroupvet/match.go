package waitgroupvet

import (
	"go/ast"
	"go/token"
	"go/types"
	"slices"
	"strings"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/ast/inspector"
	"golang.org/x/tools/go/types/typeutil"
)

// The packages the analyzers know. Functions are matched by the path of
// their package and their name, never by how the caller spelled them, so an
// import renamed or a look-alike package elsewhere changes nothing.
const (
	waitgroupPath = "github.com/gowaitgroup/waitgroup"
	errgroupPath  = "golang.org/x/sync/errgroup"
	syncPath      = "sync"
	contextPath   = "context"
)

// pathIs reports whether path is want, or want vendored.
func pathIs(path, want string) bool {
	return path == want || strings.HasSuffix(path, "/vendor/"+want)
}

// callee returns the function or method that call calls statically or
// through an interface, or nil (a call of a func value, a conversion, a
// builtin). A generic function or method is returned as declared.
func callee(info *types.Info, call *ast.CallExpr) *types.Func {
	f, _ := typeutil.Callee(info, call).(*types.Func)
	if f == nil {
		return nil
	}
	return f.Origin()
}

// isFunc reports whether f is a package-level function of pkg named one of
// names.
func isFunc(f *types.Func, pkg string, names ...string) bool {
	if f == nil || f.Pkg() == nil || !pathIs(f.Pkg().Path(), pkg) {
		return false
	}
	if f.Type().(*types.Signature).Recv() != nil {
		return false
	}
	return slices.Contains(names, f.Name())
}

// isMethod reports whether f is the method pkg.typ.name for one of names.
func isMethod(f *types.Func, pkg, typ string, names ...string) bool {
	if f == nil {
		return false
	}
	recv := f.Type().(*types.Signature).Recv()
	if recv == nil {
		return false
	}
	n := namedOf(recv.Type())
	if n == nil || n.Obj().Pkg() == nil {
		return false
	}
	return pathIs(n.Obj().Pkg().Path(), pkg) && n.Obj().Name() == typ && slices.Contains(names, f.Name())
}

// namedOf returns t, or what t points to, as a named type, or nil.
func namedOf(t types.Type) *types.Named {
	if p, ok := types.Unalias(t).(*types.Pointer); ok {
		t = p.Elem()
	}
	n, _ := types.Unalias(t).(*types.Named)
	return n
}

// isNamed reports whether t, or what t points to, is pkg.name.
func isNamed(t types.Type, pkg, name string) bool {
	n := namedOf(t)
	return n != nil && n.Obj().Pkg() != nil && pathIs(n.Obj().Pkg().Path(), pkg) && n.Obj().Name() == name
}

// isContext reports whether t is context.Context.
func isContext(t types.Type) bool {
	n, ok := types.Unalias(t).(*types.Named)
	return ok && n.Obj().Pkg() != nil && n.Obj().Pkg().Path() == contextPath && n.Obj().Name() == "Context"
}

// A kind says which group type a method belongs to.
type kind int

const (
	notGroup  kind = iota
	ours           // *waitgroup.Group
	results        // *waitgroup.Results[T]
	errgroupK      // *errgroup.Group
	syncWG         // sync.WaitGroup
)

// groupCall returns the kind of group whose method call calls, the
// method's name and the receiver expression, or notGroup.
func groupCall(info *types.Info, call *ast.CallExpr) (kind, string, ast.Expr) {
	sel, ok := ast.Unparen(call.Fun).(*ast.SelectorExpr)
	if !ok {
		return notGroup, "", nil
	}
	f := callee(info, call)
	if f == nil || f.Type().(*types.Signature).Recv() == nil {
		return notGroup, "", nil
	}
	var k kind
	switch n := f.Name(); {
	case isMethod(f, waitgroupPath, "Group", n):
		k = ours
	case isMethod(f, waitgroupPath, "Results", n):
		k = results
	case isMethod(f, errgroupPath, "Group", n):
		k = errgroupK
	case isMethod(f, syncPath, "WaitGroup", n):
		k = syncWG
	default:
		return notGroup, "", nil
	}
	recv := receiver(info, call, sel)
	if recv == nil {
		return notGroup, "", nil
	}
	return k, f.Name(), recv
}

// receiver returns the receiver of the method call call of sel: sel.X, or
// for a method expression (T.M(x)) the first argument, or nil.
func receiver(info *types.Info, call *ast.CallExpr, sel *ast.SelectorExpr) ast.Expr {
	if s := info.Selections[sel]; s != nil && s.Kind() == types.MethodExpr {
		if len(call.Args) == 0 {
			return nil
		}
		return call.Args[0]
	}
	return sel.X
}

// A ref names a group by the variable that holds it: a variable, or a
// chain of fields from one (s.wg, s.a.g). Two expressions with equal refs
// denote the same group as long as the variable is not reassigned.
type ref struct {
	root   types.Object // a *types.Var
	fields string       // ".a.g", or ""
	last   *types.Var   // the last field, or nil
}

func (r ref) valid() bool { return r.root != nil }

// refOf returns the ref of e, looking through parentheses, & and *, and
// through the embedded fields a promoted method selects (for s.Go where s
// embeds a *Group, the ref is s.Group). It returns the zero ref for anything
// else, which matches nothing.
func refOf(info *types.Info, e ast.Expr) ref {
	switch e := ast.Unparen(e).(type) {
	case *ast.Ident:
		obj, _ := info.Uses[e].(*types.Var)
		if obj == nil {
			obj, _ = info.Defs[e].(*types.Var)
		}
		if obj == nil || obj.IsField() {
			return ref{}
		}
		return ref{root: obj}
	case *ast.UnaryExpr:
		if e.Op == token.AND {
			return refOf(info, e.X)
		}
	case *ast.StarExpr:
		return refOf(info, e.X)
	case *ast.SelectorExpr:
		s := info.Selections[e]
		if s == nil || s.Kind() != types.FieldVal {
			return ref{}
		}
		r := refOf(info, e.X)
		if !r.valid() {
			return r
		}
		return r.withPath(s.Recv(), s.Index())
	}
	return ref{}
}

// withPath extends r by the fields that index selects from a value of type t.
func (r ref) withPath(t types.Type, index []int) ref {
	for _, i := range index {
		st, ok := derefStruct(t)
		if !ok {
			return ref{}
		}
		f := st.Field(i)
		r.fields += "." + f.Name()
		r.last = f
		t = f.Type()
	}
	return r
}

func derefStruct(t types.Type) (*types.Struct, bool) {
	if p, ok := t.Underlying().(*types.Pointer); ok {
		t = p.Elem()
	}
	st, ok := t.Underlying().(*types.Struct)
	return st, ok
}

// recvRef returns the ref of the group whose method call calls, including
// the embedded fields of a promoted method.
func recvRef(info *types.Info, call *ast.CallExpr) ref {
	sel, ok := ast.Unparen(call.Fun).(*ast.SelectorExpr)
	if !ok {
		return ref{}
	}
	r := refOf(info, receiver(info, call, sel))
	if s := info.Selections[sel]; s != nil && s.Kind() == types.MethodVal && len(s.Index()) > 1 && r.valid() {
		r = r.withPath(s.Recv(), s.Index()[:len(s.Index())-1])
	}
	return r
}

// render returns the source text of e, for messages.
func render(e ast.Expr) string { return types.ExprString(ast.Unparen(e)) }

// walkGoroutine calls f for each node of body that runs in the goroutine
// that runs body: it does not enter the function of a go statement or a
// function literal, except one called or deferred on the spot.
func walkGoroutine(body ast.Node, f func(ast.Node) bool) {
	var visit func(n ast.Node) bool
	visit = func(n ast.Node) bool {
		if n == nil {
			return true
		}
		switch n := n.(type) {
		case *ast.GoStmt:
			for _, a := range n.Call.Args {
				ast.Inspect(a, visit)
			}
			return false
		case *ast.CallExpr:
			if lit, ok := ast.Unparen(n.Fun).(*ast.FuncLit); ok {
				if !f(n) {
					return false
				}
				ast.Inspect(lit.Body, visit)
				for _, a := range n.Args {
					ast.Inspect(a, visit)
				}
				return false
			}
		case *ast.FuncLit:
			return false
		}
		return f(n)
	}
	ast.Inspect(body, visit)
}

// funcBody returns the body and type of a *ast.FuncDecl or *ast.FuncLit.
func funcBody(n ast.Node) (*ast.BlockStmt, *ast.FuncType) {
	switch n := n.(type) {
	case *ast.FuncDecl:
		return n.Body, n.Type
	case *ast.FuncLit:
		return n.Body, n.Type
	}
	return nil, nil
}

// eachFuncBody calls f with each function declaration and literal that has a
// body, and the body.
func eachFuncBody(in *inspector.Inspector, f func(fn ast.Node, body *ast.BlockStmt)) {
	in.Preorder([]ast.Node{(*ast.FuncDecl)(nil), (*ast.FuncLit)(nil)}, func(fn ast.Node) {
		if body, _ := funcBody(fn); body != nil {
			f(fn, body)
		}
	})
}

// within reports whether pos lies in n.
func within(pos token.Pos, n ast.Node) bool { return n.Pos() <= pos && pos < n.End() }

// skipPackage reports whether pass is for the waitgroup package itself or
// its tests, which implement the methods the analyzers check and misuse
// them on purpose to test what happens.
func skipPackage(pass *analysis.Pass) bool {
	return pathIs(strings.TrimSuffix(pass.Pkg.Path(), "_test"), waitgroupPath)
}

// inTest reports whether pos is in a _test.go file.
func inTest(pass *analysis.Pass, pos token.Pos) bool {
	f := pass.Fset.File(pos)
	return f != nil && strings.HasSuffix(f.Name(), "_test.go")
}

// enclosingScope returns the function declaration in stack, or else the
// file (stack[0]): where the names a call uses are declared.
func enclosingScope(stack []ast.Node) ast.Node {
	if d := enclosingDecl(stack); d != nil {
		return d
	}
	return stack[0]
}

// enclosingDecl returns the function declaration in stack, or nil.
func enclosingDecl(stack []ast.Node) *ast.FuncDecl {
	for _, n := range stack {
		if d, ok := n.(*ast.FuncDecl); ok {
			return d
		}
	}
	return nil
}
