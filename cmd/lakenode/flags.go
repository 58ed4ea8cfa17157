package main

import (
	"bytes"
	"errors"
	"flag"
	"io"
)

// parse parses args with fs. Asked for help (-h, --help), the usage goes to
// stdout and help is true (exit 0); on a bad flag it goes to stderr with
// the error.
func parse(fs *flag.FlagSet, args []string, stdout, stderr io.Writer) (help bool, err error) {
	var buf bytes.Buffer
	fs.SetOutput(&buf)
	err = fs.Parse(args)
	fs.SetOutput(stderr)
	if errors.Is(err, flag.ErrHelp) {
		_, _ = stdout.Write(buf.Bytes())
		return true, nil
	}
	_, _ = stderr.Write(buf.Bytes())
	return false, err
}
