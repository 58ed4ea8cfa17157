package tables

// SetMinRangeRun sets the shortest run a seal range-deletes, and returns
// the function that restores it.
func SetMinRangeRun(n int) func() {
	old := minRangeRun
	minRangeRun = n
	return func() { minRangeRun = old }
}

// SetAfterSealPeek runs f in each seal pass between reading the key after
// a full block and committing the block, and returns the function that
// restores the hook.
func SetAfterSealPeek(f func()) func() {
	old := afterSealPeek
	afterSealPeek = f
	return func() { afterSealPeek = old }
}

// SetMergeBelow sets the row count under which a block is small (and the
// fewest rows a merged block holds), and returns the function that
// restores it.
func SetMergeBelow(n int) func() {
	old := mergeBelow
	mergeBelow = n
	return func() { mergeBelow = old }
}
