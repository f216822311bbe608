package waitgroupvet

import "golang.org/x/tools/go/analysis"

// Analyzers returns the checks that waitgroupvet runs by default: all but
// [Migrate], which only offers a rewrite.
func Analyzers() []*analysis.Analyzer {
	return []*analysis.Analyzer{LostID, AddInGo, TaskCtx, SelfWait, GroupLeak, CtxAfterWait, NoWait}
}
