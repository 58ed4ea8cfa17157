package actors

import (
	"os"

	"time"

	lsql "github.com/lakenode/lakenode/tables/sql"
)

// TestScanDelayEnv names a test-only hook: when the variable is set (as
// `DBMS.TABLE=DURATION[,...]`), a query's scan of a named table waits that
// long after each row it reads, so that the cancellation tests can hold a
// scan running on a small table. It is read once, at start-up, and only
// when set; production never sets it.
const TestScanDelayEnv = "LAKENODE_TEST_SCAN_DELAY"

var testScanDelays = func() map[string]time.Duration {
	v, ok := os.LookupEnv(TestScanDelayEnv)
	if !ok {
		return nil
	}
	m, err := parseApplyDelays(v)
	if err != nil {
		panic(TestScanDelayEnv + ": " + err.Error())
	}
	return m
}()

// testScanDelay is the hook's delay per row for a query's table, 0 when
// none.
func testScanDelay(dbms, query string) time.Duration {
	if testScanDelays == nil || query == "" {
		return 0
	}
	table, err := lsql.TableOf(query)
	if err != nil {
		return 0
	}
	return testScanDelays[dbms+"."+table]
}
