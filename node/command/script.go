package command

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// ScriptCommand is one command of a script and the line it starts on
// (counted from 1).
type ScriptCommand struct {
	Text string
	Line int
}

// SplitScript splits a script into commands: one per line; a line whose
// first non-blank character is `#` is a comment; blank lines are skipped.
// A block starts at a line whose first non-blank character is `<` and ends
// at the line whose last non-blank character outside quotes is `>`; its
// lines are joined with single spaces and the `<` and `>` removed. Comment
// and blank lines inside a block are skipped unless a quoted string is
// open. A block with no end is an *Error naming its first line.
func SplitScript(r io.Reader) ([]ScriptCommand, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	var out []ScriptCommand
	emit := func(text string, line int) {
		if text != "" {
			out = append(out, ScriptCommand{Text: text, Line: line})
		}
	}
	var (
		block     strings.Builder
		inBlock   bool
		blockLine int
		firstLine string
		quote     byte // the quote open at the end of the block so far
	)
	n := 0
	for sc.Scan() {
		n++
		trimmed := strings.TrimSpace(sc.Text())
		if !inBlock {
			switch {
			case trimmed == "" || trimmed[0] == '#':
			case trimmed[0] == '<':
				if BlockComplete(trimmed) {
					emit(StripBlock(trimmed), n)
					continue
				}
				block.Reset()
				block.WriteString(trimmed)
				inBlock, blockLine, firstLine = true, n, trimmed
				quote = scanQuotes(0, trimmed)
			default:
				emit(trimmed, n)
			}
			continue
		}
		if quote == 0 && (trimmed == "" || trimmed[0] == '#') {
			continue
		}
		block.WriteByte(' ')
		block.WriteString(trimmed)
		quote = scanQuotes(quote, trimmed)
		if quote == 0 && strings.HasSuffix(trimmed, ">") {
			emit(StripBlock(block.String()), blockLine)
			inBlock = false
		}
	}
	if err := sc.Err(); err != nil {
		return out, fmt.Errorf("reading script at line %d: %w", n+1, err)
	}
	if inBlock {
		return out, &Error{Status: statusStructure, Detail: fmt.Sprintf("line %d: the block started here has no closing >", blockLine), Pos: 0, Line: firstLine}
	}
	return out, nil
}

// scanQuotes returns the quote open after s when quote was open before it
// (0 for none).
func scanQuotes(quote byte, s string) byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		}
	}
	return quote
}

// BlockComplete reports whether text is a whole command: true unless it
// starts with `<` and does not yet end with a `>` outside quotes.
func BlockComplete(text string) bool {
	t := strings.TrimSpace(text)
	if !strings.HasPrefix(t, "<") {
		return true
	}
	return len(t) >= 2 && strings.HasSuffix(t, ">") && scanQuotes(0, t) == 0
}

// StripBlock removes the `<` and `>` around one block, as typed on one
// line or joined by SplitScript; other text is returned trimmed.
func StripBlock(s string) string {
	t := strings.TrimSpace(s)
	if len(t) >= 2 && t[0] == '<' && t[len(t)-1] == '>' {
		return strings.TrimSpace(t[1 : len(t)-1])
	}
	return t
}
