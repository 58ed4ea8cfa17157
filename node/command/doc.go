// Package command parses EdgeLake's command language into typed requests.
//
// A command line is split into words: blanks separate them, a "double" or
// 'single' quoted string is one word, and `(`, `)` and `=` are words of
// their own outside quotes, so `ip=1.2.3.4` reads like `ip = 1.2.3.4`.
// Options are `key = value and key = value ...` lists whose values may be
// several words or a nested `( ... )` list; keys are case-insensitive.
// `!name` words are replaced from the node dictionary before a command is
// parsed, and a line `NAME = value` assigns a dictionary entry.
//
// Parse turns one line into a Request (one struct per command), with
// EdgeLake's status texts for the errors EdgeLake reports (reference §1.1)
// and a *Error for every user error. SplitScript cuts a script into
// commands: one per line, `#` comment lines, and `< ... >` blocks spanning
// several lines. Help, Commands and Words describe the language.
//
// The package is pure: it reads a script when asked to and does nothing
// else; it runs nothing and stores nothing.
package command
