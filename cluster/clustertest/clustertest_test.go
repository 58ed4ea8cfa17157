package clustertest_test

import (
	"testing"

	"github.com/lakenode/lakenode/cluster/clustertest"
	"github.com/lakenode/lakenode/tables/sql/sqltest"
)

// TestScriptsOnThreeNodes runs the same SQL behaviour scripts as the
// single-store test, with each table's rows split over three nodes and
// every query merged from their partial answers: the expected output is
// the same.
func TestScriptsOnThreeNodes(t *testing.T) {
	for _, path := range sqltest.ReadDir(t, "../../tables/sql/sqltest/testdata") {
		t.Run(path, func(t *testing.T) {
			if clustertest.Isolated(t) {
				return
			}
			sqltest.Run(t, path, clustertest.Start(t, 3))
		})
	}
}
