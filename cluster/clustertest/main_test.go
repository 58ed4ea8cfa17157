package clustertest_test

import (
	"testing"

	"github.com/lakenode/lakenode/cluster/clustertest"
)

func TestMain(m *testing.M) { clustertest.Main(m) }
