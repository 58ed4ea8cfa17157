package command

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
)

var scriptCases = []struct {
	name   string
	script string
	want   []ScriptCommand
}{
	{"empty", "", nil},
	{"only comments and blanks", "# one\n\n   # two\n\t\n", nil},
	{"one per line, # inside a line is not a comment",
		"connect dbms d where type = sqlite\n  get processes   \nget processes # not a comment\n",
		[]ScriptCommand{{"connect dbms d where type = sqlite", 1}, {"get processes", 2}, {"get processes # not a comment", 3}}},
	{"no final newline", "get processes", []ScriptCommand{{"get processes", 1}}},
	{"CRLF", "# c\r\nget processes\r\n<get\r\nstreaming>\r\n", []ScriptCommand{{"get processes", 2}, {"get streaming", 3}}},
	{"one-line block", "<get msg client>\n", []ScriptCommand{{"get msg client", 1}}},
	{"block over lines", "get processes\n<run kafka\n   consumer where\n ip = 1>\nexit kafka\n",
		[]ScriptCommand{{"get processes", 1}, {"run kafka consumer where ip = 1", 2}, {"exit kafka", 5}}},
	{"< and > on lines of their own", "<\nflush\nbuffers\n>\n", []ScriptCommand{{"flush buffers", 1}}},
	{"comments and blank lines inside a block", "<get\n# a comment\n\n  processes>\n", []ScriptCommand{{"get processes", 1}}},
	{"> inside quotes does not end a block", "< sql d \"select '>' from t\"\n>\n", []ScriptCommand{{`sql d "select '>' from t"`, 1}}},
	{"a quoted string over lines keeps # and blank lines", "<sql d \"select a >\n# b\n\nfrom t\" >\nx = 1\n",
		[]ScriptCommand{{`sql d "select a > # b  from t"`, 1}, {"x = 1", 5}}},
	{"an empty block is skipped", "<>\n< >\nget processes\n", []ScriptCommand{{"get processes", 3}}},
	{"the seed block", "# seed\n" + seedBlock + "\nget msg client\n",
		[]ScriptCommand{{strings.Join(strings.Fields(StripBlock(seedBlock)), " ") + "", 2}, {"get msg client", 9}}},
}

func TestSplitScript(t *testing.T) {
	for _, c := range scriptCases {
		t.Run(c.name, func(t *testing.T) {
			got, err := SplitScript(strings.NewReader(c.script))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("got  %+v\nwant %+v", got, c.want)
			}
		})
	}
}

func TestSplitScriptErrors(t *testing.T) {
	cases := []struct{ script, detail, line string }{
		{"get processes\n<run kafka consumer where\nip = 1\n", "line 2: the block started here has no closing >", "<run kafka consumer where"},
		{"<get processes\n", "line 1: the block started here has no closing >", "<get processes"},
		{"# x\n  <sql d \"select '>\n>\n", "line 2: the block started here has no closing >", `<sql d "select '>`},
	}
	for _, c := range cases {
		cmds, err := SplitScript(strings.NewReader(c.script))
		var ce *Error
		if !errors.As(err, &ce) || ce.Status != statusStructure || ce.Detail != c.detail || ce.Line != c.line || ce.Pos != 0 {
			t.Errorf("%q: %#v", c.script, err)
		}
		if c.script[0] == 'g' && (len(cmds) != 1 || cmds[0].Text != "get processes") {
			t.Errorf("%q: the commands before the block are lost: %+v", c.script, cmds)
		}
	}
	boom := errors.New("boom")
	if _, err := SplitScript(iotest.ErrReader(boom)); !errors.Is(err, boom) {
		t.Errorf("read error: %v", err)
	}
}

func TestBlocks(t *testing.T) {
	cases := []struct {
		text     string
		complete bool
		stripped string
	}{
		{"get processes", true, "get processes"},
		{"  <get processes>  ", true, "get processes"},
		{"<get processes", false, "<get processes"},
		{"<", false, "<"},
		{"<>", true, ""},
		{`<sql d "a >"`, false, `<sql d "a >"`},
		{"<sql d \"a >\"\n>", true, "sql d \"a >\""},
		{"<sql d 'it''s' >", true, "sql d 'it''s'"},
		{"a > b", true, "a > b"},
	}
	for _, c := range cases {
		if got := BlockComplete(c.text); got != c.complete {
			t.Errorf("BlockComplete(%q) = %v", c.text, got)
		}
		if c.complete {
			if got := StripBlock(c.text); got != c.stripped {
				t.Errorf("StripBlock(%q) = %q, want %q", c.text, got, c.stripped)
			}
		}
	}
}
