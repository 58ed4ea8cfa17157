package tables

// SetMinRangeRun sets the shortest run a seal range-deletes, and returns
// the function that restores it.
func SetMinRangeRun(n int) func() {
	old := minRangeRun
	minRangeRun = n
	return func() { minRangeRun = old }
}
