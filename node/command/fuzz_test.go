package command

import (
	"errors"
	"strings"
	"testing"
)

// fuzzLines are the lines of the table tests plus some broken ones.
func fuzzLines() []string {
	lines := []string{seedOneLine, seedBlock, seedProducer,
		`x = (`, `"`, `<`, `a = b = c`, `column.a.int = "bring [[]]"`, `!`, `run client ((`, `sql d "`, `get msg client where id = 1 and`,
		`run kafka consumer where ip = 1 and port = 2 and topic = (name = t and dbms = "bring [a][]" and table = x and column.v = (type = "bring [t]" and value = "bring [r][][v]" and optional = true))`,
	}
	for _, c := range consumerTopicCases {
		lines = append(lines, topicLine(c.inner))
	}
	for _, cs := range [][]errCase{consumerErrorCases, commandErrorCases, sqlErrorCases} {
		for _, c := range cs {
			lines = append(lines, c.line)
		}
	}
	for _, cs := range [][]okCase{commandCases, sqlCases} {
		for _, c := range cs {
			lines = append(lines, c.line)
		}
	}
	return lines
}

func FuzzParse(f *testing.F) {
	for _, s := range fuzzLines() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		req, err := Parse(line, testVars)
		if err != nil {
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("%q: error %T is not *Error: %v", line, err, err)
			}
			if ce.Pos < -1 || ce.Pos > len(ce.Line) {
				t.Fatalf("%q: %v: position %d outside the line %q", line, err, ce.Pos, ce.Line)
			}
			_ = ce.Caret()
			return
		}
		switch r := req.(type) {
		case nil:
			if s := StripBlock(line); s != "" && s[0] != '#' {
				t.Fatalf("%q: nil request without an error", line)
			}
		case *RunKafkaConsumer:
			if r.Spec.IP == "" || r.Spec.Port == "" || len(r.Spec.Topics) == 0 {
				t.Fatalf("%q: incomplete spec %+v", line, r.Spec)
			}
			for _, tp := range r.Spec.Topics {
				if tp.Name == "" || len(tp.Columns) == 0 {
					t.Fatalf("%q: incomplete topic %+v", line, tp)
				}
			}
		case *SQL:
			if strings.TrimSpace(r.Query) == "" {
				t.Fatalf("%q: empty query", line)
			}
		case *RunClient:
			if r.Inner == nil {
				t.Fatalf("%q: run client without a command", line)
			}
		}
	})
}

func FuzzSplitScript(f *testing.F) {
	for _, c := range scriptCases {
		f.Add(c.script)
	}
	lines := fuzzLines()
	for i, s := range lines {
		f.Add(s + "\n# c\n" + lines[(i+1)%len(lines)])
	}
	f.Fuzz(func(t *testing.T, script string) {
		cmds, err := SplitScript(strings.NewReader(script))
		if err != nil {
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("%q: error %T is not *Error: %v", script, err, err)
			}
		}
		n := strings.Count(script, "\n") + 1
		last := 0
		for _, c := range cmds {
			if c.Text == "" || c.Text != strings.TrimSpace(c.Text) {
				t.Fatalf("%q: command %q", script, c.Text)
			}
			if c.Line <= last || c.Line > n {
				t.Fatalf("%q: line %d after %d (of %d)", script, c.Line, last, n)
			}
			last = c.Line
		}
	})
}
