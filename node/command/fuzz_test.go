package command

import (
	"errors"
	"strings"
	"testing"
)

var fuzzSeeds = []string{
	seedOneLine, seedBlock, seedProducer,
	`run kafka consumer where ip = 1 and port = 2 and topic = (name = t and dbms = "bring [a][]" and table = x and column.v = (type = "bring [t]" and value = "bring [r][][v]" and optional = true))`,
	`get msg client where id = 1 and format = json`, `set buffer threshold where time = 1 minute`,
	`sql d format = table "select a, from t where b > now() - 1 day"`, `run client (a, b and subset = true) sql d "select 1"`,
	`x = (`, `"`, `<`, `a = b = c`, `column.a.int = "bring [[]]"`, `!`,
}

func FuzzParse(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		req, err := Parse(line, map[string]string{"v": "x"})
		if err != nil {
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("%q: error %T is not *Error: %v", line, err, err)
			}
			_ = ce.Caret()
			return
		}
		if req == nil && strings.TrimSpace(StripBlock(line)) != "" {
			t.Fatalf("%q: nil request without error", line)
		}
	})
}

func FuzzSplitScript(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s + "\n# c\n" + s)
	}
	f.Fuzz(func(t *testing.T, script string) {
		cmds, err := SplitScript(strings.NewReader(script))
		if err != nil {
			return
		}
		for _, c := range cmds {
			if strings.TrimSpace(c.Text) == "" && !strings.Contains(script, "<>") && !strings.Contains(script, "<") {
				t.Fatalf("empty command from %q", script)
			}
		}
	})
}
