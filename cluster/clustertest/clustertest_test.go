package clustertest_test

import (
	"testing"

	"github.com/lakenode/lakenode/cluster/clustertest"
	"github.com/lakenode/lakenode/tables/sql/sqltest"
	"github.com/lakenode/lakenode/tables/tablestest"
)

// TestScriptsOnThreeNodes runs the same SQL behaviour scripts as the
// single-store test, with each table's rows split over three nodes and
// every query merged from their partial answers: the expected output is
// the same. One node's share is sealed into column blocks, one's half
// sealed, one's left as rows.
func TestScriptsOnThreeNodes(t *testing.T) {
	for _, path := range sqltest.ReadDir(t, "../../tables/sql/sqltest/testdata") {
		t.Run(path, func(t *testing.T) {
			if clustertest.Isolated(t) {
				return
			}
			c := clustertest.Start(t, 3)
			c.Seal = []tablestest.Sealing{tablestest.SealHalf, tablestest.SealAll, tablestest.SealNone}
			sqltest.Run(t, path, c)
		})
	}
}
