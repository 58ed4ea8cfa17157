package sqltest

import "testing"

func TestScripts(t *testing.T) {
	for _, path := range ReadDir(t, "testdata") {
		t.Run(path, func(t *testing.T) { Run(t, path, NewStore(t)) })
	}
}
