package waitgroupvet_test

import (
	"testing"

	"github.com/gowaitgroup/waitgroup/waitgroupvet"
	"golang.org/x/tools/go/analysis/analysistest"
)

// Each analyzer runs on its own package under testdata/src, whose // want
// comments list every finding expected; a finding without a // want, or a
// // want without a finding, fails the test. Each package also holds
// look-alikes that must not be reported.

func TestLostID(t *testing.T) {
	analysistest.Run(t, analysistest.TestData(), waitgroupvet.LostID, "lostid")
}

func TestAddInGo(t *testing.T) {
	analysistest.Run(t, analysistest.TestData(), waitgroupvet.AddInGo, "addingo")
}

func TestTaskCtx(t *testing.T) {
	analysistest.RunWithSuggestedFixes(t, analysistest.TestData(), waitgroupvet.TaskCtx, "taskctx")
}

func TestSelfWait(t *testing.T) {
	analysistest.Run(t, analysistest.TestData(), waitgroupvet.SelfWait, "selfwait")
}

func TestGroupLeak(t *testing.T) {
	analysistest.RunWithSuggestedFixes(t, analysistest.TestData(), waitgroupvet.GroupLeak, "groupleak", "groupleak/cmd")
}

func TestCtxAfterWait(t *testing.T) {
	analysistest.Run(t, analysistest.TestData(), waitgroupvet.CtxAfterWait, "ctxafterwait")
}

func TestNoWait(t *testing.T) {
	analysistest.Run(t, analysistest.TestData(), waitgroupvet.NoWait, "nowait")
}

func TestMigrate(t *testing.T) {
	analysistest.RunWithSuggestedFixes(t, analysistest.TestData(), waitgroupvet.Migrate, "migrate")
}

// The waitgroup package's own tests misuse it on purpose and are not
// checked: the stub's misuse_test.go would be reported otherwise.
func TestOwnPackageNotChecked(t *testing.T) {
	for _, a := range append(waitgroupvet.Analyzers(), waitgroupvet.Migrate) {
		analysistest.Run(t, analysistest.TestData(), a, "github.com/gowaitgroup/waitgroup")
	}
}
