package command

import "strconv"

// CancelQuery is `cancel query ID`: stop the running query ID (an id of
// get queries), with its shares on other nodes.
type CancelQuery struct{ ID uint64 }

func (*CancelQuery) request() {}

func parseCancelQuery(toks []token, line string) (Request, error) {
	const usage = "usage: cancel query ID (an id of get queries)"
	if len(toks) != 3 {
		at := len(line)
		if len(toks) > 3 {
			at = toks[3].pos
		}
		return nil, errAt(line, at, "%s", usage)
	}
	id, err := strconv.ParseUint(toks[2].text, 10, 64)
	if err != nil || id == 0 || toks[2].kind != tokWord {
		return nil, errAt(line, toks[2].pos, "a query id is a number from 1 (see get queries)")
	}
	return &CancelQuery{ID: id}, nil
}
