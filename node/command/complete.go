package command

import (
	"regexp"
	"slices"
	"sort"
	"strings"
)

// CursorMark separates the text before the cursor from the text after it
// when a completion request travels as one string (the Prefix of a
// CompleteRequest).
const CursorMark = "\x00"

// MarkCursor joins the text before and after the cursor for a completion
// request; SplitCursor undoes it (text without a mark is all before the
// cursor).
func MarkCursor(before, after string) string { return before + CursorMark + after }

// SplitCursor splits a completion request made by MarkCursor.
func SplitCursor(s string) (before, after string) {
	before, after, _ = strings.Cut(s, CursorMark)
	return before, after
}

// CompletionTable is what completion knows of one table.
type CompletionTable struct {
	DBMS    string
	Name    string
	Columns []string
}

// completionPunct are the characters that end a word for completion (besides
// blanks); each is a token of its own.
const completionPunct = `()=,"'<>+*/%;`

func isCompletionBreak(c byte) bool {
	return isBlank(c) || strings.IndexByte(completionPunct, c) >= 0
}

// WordStart returns where the word being completed starts in before (the
// text up to the cursor); before[WordStart(before):] is what the candidates
// of Complete start with.
func WordStart(before string) int {
	i := len(before)
	for i > 0 && !isCompletionBreak(before[i-1]) {
		i--
	}
	return i
}

// Complete returns the candidates for the word at the cursor — what may
// stand there, given the command typed before it: command words at the
// start, what follows a command's words (`get ` offers the get commands), a
// command's keys after `where` and `and` and their fixed values after `=`,
// dbms names after `dbms =` and `sql`, the tables of the named dbms after
// `table =` and after `from` in a query, and in a query's select list and
// conditions the columns of the table in its from clause (also when the from
// clause follows the cursor), or of all the dbms's tables. Candidates start
// with the word typed so far (ignoring case), sorted, without repeats.
func Complete(before, after string, tables []CompletionTable) []string {
	start := WordStart(before)
	partial := strings.ToLower(before[start:])
	c := completion{tables: tables, after: after}
	cands := c.command(scanCompletion(strings.TrimLeft(before[:start], " \t\r\n<")))
	seen := map[string]bool{}
	var out []string
	for _, w := range cands {
		if !seen[w] && strings.HasPrefix(strings.ToLower(w), partial) {
			seen[w] = true
			out = append(out, w)
		}
	}
	sort.Strings(out)
	return out
}

// ctok is a token of the text before the cursor.
type ctok struct {
	text   string // a word, a punctuation character, or a string's content
	word   bool
	str    bool // a quoted string
	quote  byte
	closed bool // false for a string still open at the cursor
}

func (t ctok) is(words ...string) bool {
	return t.word && slices.ContainsFunc(words, func(w string) bool { return strings.EqualFold(t.text, w) })
}

func (t ctok) punct(p string) bool { return !t.word && !t.str && t.text == p }

// scanCompletion splits text into words, punctuation and quoted strings; it
// never fails (a string may be open at the end).
func scanCompletion(s string) []ctok {
	var out []ctok
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case isBlank(c):
			i++
		case c == '"' || c == '\'':
			j := strings.IndexByte(s[i+1:], c)
			if j < 0 {
				out = append(out, ctok{text: s[i+1:], str: true, quote: c})
				return out
			}
			out = append(out, ctok{text: s[i+1 : i+1+j], str: true, quote: c, closed: true})
			i += j + 2
		case isCompletionBreak(c):
			out = append(out, ctok{text: string(c)})
			i++
		default:
			j := i
			for j < len(s) && !isCompletionBreak(s[j]) {
				j++
			}
			out = append(out, ctok{text: s[i:j], word: true})
			i = j
		}
	}
	return out
}

type completion struct {
	tables []CompletionTable
	after  string // the text after the cursor
}

func (c completion) dbmsNames() []string {
	var out []string
	for _, t := range c.tables {
		out = append(out, t.DBMS)
	}
	return out
}

// tablesOf returns the tables of dbms ("" for every dbms).
func (c completion) tablesOf(dbms string) []CompletionTable {
	var out []CompletionTable
	for _, t := range c.tables {
		if dbms == "" || strings.EqualFold(t.DBMS, dbms) {
			out = append(out, t)
		}
	}
	return out
}

func tableNames(ts []CompletionTable) []string {
	out := make([]string, 0, len(ts))
	for _, t := range ts {
		out = append(out, t.Name)
	}
	return out
}

// completionCommands are the commands completion knows (`variables` is no
// command word).
func completionCommands() []CommandHelp {
	var out []CommandHelp
	for _, c := range Commands() {
		if c.Name != "variables" {
			out = append(out, c)
		}
	}
	return out
}

// command completes a whole command given its tokens before the word at the
// cursor.
func (c completion) command(toks []ctok) []string {
	if n := len(toks); n > 0 && toks[n-1].str && !toks[n-1].closed {
		// Inside a string: only a query (`sql DBMS "select ...`) completes.
		if n >= 2 && toks[n-2].punct("=") || !toks[0].is("sql", "run", "schedule") {
			return nil
		}
	}
	switch {
	case len(toks) >= 3 && toks[0].is("run") && toks[1].is("client") && toks[2].punct("("):
		depth := 0
		for i := 2; i < len(toks); i++ {
			switch {
			case toks[i].punct("("):
				depth++
			case toks[i].punct(")"):
				depth--
				if depth == 0 {
					return c.command(toks[i+1:])
				}
			}
		}
		return nil // destinations
	case len(toks) >= 1 && toks[0].is("schedule"):
		for i, t := range toks {
			if t.is("task") {
				return c.command(toks[i+1:])
			}
		}
	case len(toks) >= 1 && toks[0].is("help"):
		return nextNameWords(toks[1:])
	}
	var best *CommandHelp
	n := 0
	cmds := completionCommands()
	for i := range cmds {
		name := strings.Fields(cmds[i].Name)
		if len(name) > len(toks) || len(name) <= n {
			continue
		}
		if wordsMatch(toks[:len(name)], name) {
			best, n = &cmds[i], len(name)
		}
	}
	if best == nil {
		return nextNameWords(toks)
	}
	rest := toks[n:]
	var out []string
	if len(rest) == 0 {
		out = nextNameWords(toks) // `exit` may go on as `exit kafka`
	}
	switch best.Name {
	case "sql":
		return append(out, c.sql(rest)...)
	case "drop table":
		if len(rest) == 0 {
			return append(out, tableNames(c.tablesOf(""))...)
		}
	case "exit", "help":
		return out
	case "connect dbms":
		if len(rest) == 0 {
			return append(out, c.dbmsNames()...)
		}
	}
	return append(out, c.keyed(parseUsage(*best), rest)...)
}

func wordsMatch(toks []ctok, words []string) bool {
	for i, w := range words {
		if !toks[i].is(w) {
			return false
		}
	}
	return true
}

// nextNameWords returns the word that follows toks in the commands whose
// names start with them.
func nextNameWords(toks []ctok) []string {
	var out []string
	for _, c := range completionCommands() {
		name := strings.Fields(c.Name)
		if len(name) > len(toks) && wordsMatch(toks, name[:len(toks)]) {
			out = append(out, name[len(toks)])
		}
	}
	return out
}

// quotedInUsage is a quoted placeholder in a usage ("NAME", "start of day").
var quotedInUsage = regexp.MustCompile(`"[^"]*"`)

// usage is what a command's usage says may follow its name.
type usage struct {
	head   []string            // words right after the name (`get operator summary`), `where` among them
	keys   []string            // keys of `key = value`
	values map[string][]string // a key's fixed values (`format = json|table`)
	units  map[string][]string // the words after a key's value (`keep = N days`)
	tail   []string            // words after the keys (`schedule ... task`)
	keyed  bool                // a key comes right after the name (no `where`)
}

// parseUsage reads a CommandHelp's Usage.
func parseUsage(c CommandHelp) usage {
	u := usage{values: map[string][]string{}, units: map[string][]string{}}
	text := c.Usage
	// Drop remarks in parentheses that hold no `=` ("(under --files-dir)").
	for {
		i := strings.Index(text, "(under")
		if i < 0 {
			break
		}
		j := strings.IndexByte(text[i:], ')')
		if j < 0 {
			break
		}
		text = text[:i] + text[i+j+1:]
	}
	text = quotedInUsage.ReplaceAllString(strings.ReplaceAll(text, "()", ""), "X")
	text = strings.NewReplacer("[", " ", "]", " ", "(", " ", ")", " ", "=", " = ").Replace(text)
	f := strings.Fields(text)
	f = f[min(len(strings.Fields(c.Name)), len(f)):]
	alts := func(s string) []string {
		var out []string
		for _, w := range strings.Split(strings.Trim(s, `",`), "|") {
			if isCompletionWord(w) && w != "unit" || w == "*" {
				out = append(out, w)
			}
		}
		return out
	}
	seenKey := false
	for i := 0; i < len(f); i++ {
		if i+1 < len(f) && f[i+1] == "=" {
			key := f[i]
			if !isCompletionWord(key) {
				i++
				continue
			}
			if i == 0 {
				u.keyed = true
			}
			seenKey = true
			if !slices.Contains(u.keys, key) {
				u.keys = append(u.keys, key)
			}
			if i+2 < len(f) {
				u.values[key] = append(u.values[key], alts(f[i+2])...)
			}
			// A number takes a unit: `keep = N days`, `start = +N unit`.
			numeric := i+2 < len(f) && slices.ContainsFunc(strings.Split(f[i+2], "|"), func(a string) bool { return strings.TrimPrefix(a, "+") == "N" })
			if numeric && i+3 < len(f) && f[i+3] != "and" && (i+4 >= len(f) || f[i+4] != "=") {
				u.units[key] = append(u.units[key], alts(f[i+3])...)
				i++
			}
			i += 2
			continue
		}
		if f[i] == "and" || f[i] == "=" {
			continue
		}
		if seenKey {
			u.tail = append(u.tail, alts(f[i])...)
		} else {
			u.head = append(u.head, alts(f[i])...)
		}
	}
	return u
}

// keyed completes what follows a command's name: head words, then
// `key = value and ...`.
func (c completion) keyed(u usage, rest []ctok) []string {
	if len(rest) == 0 {
		if u.keyed {
			return u.keys
		}
		return u.head
	}
	last := rest[len(rest)-1]
	switch {
	case last.punct("="):
		if len(rest) < 2 {
			return nil
		}
		key := strings.ToLower(rest[len(rest)-2].text)
		switch key {
		case "dbms":
			return append(c.dbmsNames(), u.values[key]...)
		case "table":
			return tableNames(c.tablesOf(valueOf(rest, "dbms")))
		}
		return u.values[key]
	case last.is("where", "and") || last.punct("("):
		used := map[string]bool{}
		for i := 0; i+1 < len(rest); i++ {
			if rest[i+1].punct("=") {
				used[strings.ToLower(rest[i].text)] = true
			}
		}
		var out []string
		for _, k := range u.keys {
			if !used[k] || k == "topic" || k == "column" {
				out = append(out, k)
			}
		}
		return out
	case last.punct(")"):
		return append([]string{"and"}, u.tail...)
	}
	// In a value: `key = v` takes its unit or `and`.
	for i := len(rest) - 1; i >= 1; i-- {
		if rest[i].is("where", "and") {
			break
		}
		if rest[i].punct("=") {
			key := strings.ToLower(rest[i-1].text)
			vals := rest[i+1:]
			if len(vals) == 1 && len(u.units[key]) > 0 && !slices.Contains(u.values[key], strings.ToLower(vals[0].text)) {
				return u.units[key]
			}
			return append([]string{"and"}, u.tail...)
		}
	}
	// After head words (`get operator summary`): `where`, if the usage has it.
	for _, t := range rest {
		if t.is("where") {
			return nil
		}
	}
	if slices.Contains(u.head, "where") {
		return []string{"where"}
	}
	return nil
}

// valueOf returns the value of the last `key = value` in toks ("" if none).
func valueOf(toks []ctok, key string) string {
	for i := len(toks) - 3; i >= 0; i-- {
		if toks[i].is(key) && toks[i+1].punct("=") && (toks[i+2].word || toks[i+2].str) {
			return toks[i+2].text
		}
	}
	return ""
}

// sql completes `sql DBMS [options] "SELECT ..."` after `sql`.
func (c completion) sql(rest []ctok) []string {
	if len(rest) == 0 {
		return c.dbmsNames()
	}
	dbms := rest[0].text
	opts := rest[1:]
	for i, t := range opts {
		switch {
		case t.str && (i == 0 || !opts[i-1].punct("=")):
			if t.closed {
				return nil // the query is typed; the cursor is after it
			}
			after, _, _ := strings.Cut(c.after, string(t.quote))
			return c.query(dbms, scanCompletion(t.text), scanCompletion(after))
		case t.is("select"):
			return c.query(dbms, opts[i:], scanCompletion(c.after))
		}
	}
	u := parseUsage(sqlHelp())
	u.keyed = true // the options follow the dbms
	return c.keyed(u, opts)
}

func sqlHelp() CommandHelp {
	for _, c := range commands {
		if c.Name == "sql" {
			return c
		}
	}
	return CommandHelp{}
}

// query completes a SELECT statement of dbms; q holds its tokens before the
// word at the cursor, after those past the cursor.
func (c completion) query(dbms string, q, after []ctok) []string {
	if len(q) == 0 {
		return []string{"select"}
	}
	tabs := c.tablesOf(dbms)
	from := ""
	all := append(append([]ctok(nil), q...), after...)
	for i := 0; i+1 < len(all); i++ {
		if all[i].is("from") && all[i+1].word {
			from = all[i+1].text
			break
		}
	}
	columns := func() []string {
		var out []string
		for _, t := range tabs {
			if from == "" || strings.EqualFold(t.Name, from) {
				out = append(out, t.Columns...)
			}
		}
		if len(out) == 0 { // an unknown table in the from clause
			for _, t := range tabs {
				out = append(out, t.Columns...)
			}
		}
		return out
	}
	last := q[len(q)-1]
	prev := ctok{}
	if len(q) >= 2 {
		prev = q[len(q)-2]
	}
	switch {
	case last.is("from", "join"):
		return tableNames(tabs)
	case last.is("group", "order"):
		return []string{"by"}
	case last.is("limit", "offset"):
		return nil
	case last.punct("*") && (prev.is("select", "distinct") || prev.punct(",")):
		return []string{"from"}
	case last.is("select", "distinct", "where", "and", "or", "not", "by", "having", "on", "between") ||
		(!last.word && !last.str && !last.punct(")")):
		return columns()
	}
	clause := ""
	for i := len(q) - 1; i >= 0 && clause == ""; i-- {
		if q[i].is("select", "from", "where", "group", "order", "having", "limit") {
			clause = strings.ToLower(q[i].text)
		}
	}
	switch clause {
	case "select":
		return []string{"from"}
	case "from":
		return []string{"where", "group", "order", "limit"}
	case "where", "having":
		// After a comparison's value, the condition can go on or end.
		if !prev.word && !prev.str && !prev.punct(")") && !prev.punct("(") && !prev.punct(",") || prev.is("null", "like", "in") {
			return []string{"and", "or", "group", "order", "limit"}
		}
	case "group":
		return []string{"having", "order", "limit"}
	case "order":
		return []string{"asc", "desc", "limit"}
	}
	return nil
}
