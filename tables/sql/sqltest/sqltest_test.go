package sqltest

import "testing"

// TestScripts runs every script on rows, on rows half sealed into column
// blocks, and on blocks only: the answers are the same.
func TestScripts(t *testing.T) {
	for _, path := range ReadDir(t, "testdata") {
		for _, seal := range []Sealing{SealNone, SealHalf, SealAll} {
			t.Run(path+"/"+seal.String(), func(t *testing.T) {
				s := NewStore(t)
				s.Seal = seal
				Run(t, path, s)
			})
		}
	}
}
