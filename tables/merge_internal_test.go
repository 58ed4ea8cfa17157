package tables

import (
	"slices"
	"testing"
)

// TestMergeRuns: runs are two or more consecutive small blocks that fit in
// one block; a full block ends a run.
func TestMergeRuns(t *testing.T) {
	small, half, full := 1000, mergeBelow-1, BlockRows
	quarter := mergeBelow / 2
	for _, tc := range []struct {
		name string
		rows []int
		want [][]int // the runs, as indexes into rows
	}{
		{"none", nil, nil},
		{"one small block", []int{small}, nil},
		{"too few rows together yet", []int{small, small}, nil},
		{"enough rows", []int{quarter, quarter}, [][]int{{0, 1}}},
		{"split by a full block", []int{quarter, full, quarter, small, quarter}, [][]int{{2, 3, 4}}},
		{"a lone small block between full ones", []int{full, half, full}, nil},
		{"up to a block's rows", []int{half, half, half}, [][]int{{0, 1}}},
		{"the rest runs again", []int{half, half, half, half}, [][]int{{0, 1}, {2, 3}}},
		{"a half block is not small", []int{quarter, mergeBelow, quarter}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hs := make([]*BlockHeader, len(tc.rows))
			for i, n := range tc.rows {
				hs[i] = &BlockHeader{ID: uint64(i), Rows: n}
			}
			var got [][]int
			for _, run := range mergeRuns(hs) {
				var ids []int
				for _, h := range run {
					ids = append(ids, int(h.ID))
				}
				got = append(got, ids)
			}
			if !slices.EqualFunc(got, tc.want, slices.Equal) {
				t.Errorf("runs %v, want %v", got, tc.want)
			}
		})
	}
}
