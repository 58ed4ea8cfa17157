package command

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// ScriptCommand is one command of a script and the line it starts on.
type ScriptCommand struct {
	Text string
	Line int
}

// SplitScript splits a script into commands: one per line; `#` starts a
// comment only at the start of a line; a block starts at a line whose first
// non-blank character is `<` and ends at a line whose last non-blank
// character outside quotes is `>`. A block's lines are joined with spaces.
func SplitScript(r io.Reader) ([]ScriptCommand, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	var out []ScriptCommand
	var block []string
	blockLine := 0
	n := 0
	for sc.Scan() {
		n++
		line := sc.Text()
		trimmed := strings.TrimSpace(line)
		if len(block) == 0 {
			if trimmed == "" || strings.HasPrefix(trimmed, "#") {
				continue
			}
			if strings.HasPrefix(trimmed, "<") {
				block, blockLine = []string{trimmed}, n
				if BlockComplete(trimmed) {
					out = append(out, ScriptCommand{Text: StripBlock(trimmed), Line: n})
					block = nil
				}
				continue
			}
			out = append(out, ScriptCommand{Text: trimmed, Line: n})
			continue
		}
		block = append(block, trimmed)
		joined := strings.Join(block, " ")
		if BlockComplete(joined) {
			out = append(out, ScriptCommand{Text: StripBlock(joined), Line: blockLine})
			block = nil
		}
	}
	if err := sc.Err(); err != nil {
		return out, fmt.Errorf("reading script: %w", err)
	}
	if len(block) > 0 {
		return out, fmt.Errorf("line %d: the block started here has no closing >", blockLine)
	}
	return out, nil
}

// BlockComplete reports whether text, which starts with `<`, ends with `>`
// outside quotes.
func BlockComplete(text string) bool {
	t := strings.TrimSpace(text)
	if !strings.HasPrefix(t, "<") {
		return true
	}
	var quote byte
	lastOutside := byte(0)
	for i := 0; i < len(t); i++ {
		c := t[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			continue
		}
		if quote == 0 && c != ' ' && c != '\t' && c != '\n' && c != '\r' && c != '"' && c != '\'' {
			lastOutside = c
		} else if quote != 0 || c == '"' || c == '\'' {
			lastOutside = 0
		}
	}
	return quote == 0 && lastOutside == '>' && len(t) > 1
}

// StripBlock removes the `<` and `>` around a block; other lines are
// returned trimmed.
func StripBlock(s string) string {
	t := strings.TrimSpace(s)
	if strings.HasPrefix(t, "<") && strings.HasSuffix(t, ">") && len(t) >= 2 {
		return strings.TrimSpace(t[1 : len(t)-1])
	}
	return t
}
