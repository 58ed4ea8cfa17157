package command

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// RunScheduler is `run scheduler [ID]` (default 1).
type RunScheduler struct{ ID int }

// ExitScheduler is `exit scheduler [ID]` (0: every scheduler).
type ExitScheduler struct{ ID int }

// Schedule is `schedule time = N unit and name = "..." [and scheduler = ID]
// task COMMAND`.
type Schedule struct {
	Every     time.Duration
	Name      string
	Scheduler int
	Task      string
	// Start is EdgeLake's `start =` as written ("" : one interval from
	// now); ParseStart resolves it.
	Start string
}

// TaskControl is `task stop|resume|remove|run where [scheduler = ID and]
// name = "..."`, or `task init where name = "..." and start = ...`.
type TaskControl struct {
	Op        string
	Name      string
	Scheduler int
	Start     string // task init
}

// ParseStart resolves a scheduler start time as EdgeLake writes it: now(),
// "start of year|month|day|hour|minute" (UTC), +N followed by a unit (y, m,
// w, d, h, t for minutes, s; or the unit's name), or a date: 2026-11-25,
// 2026-11-25 14:00[:00] or RFC 3339.
func ParseStart(s string, now time.Time) (time.Time, error) {
	v := strings.ToLower(strings.TrimSpace(s))
	now = now.UTC()
	switch v {
	case "now()", "now":
		return now, nil
	case "start of year":
		return time.Date(now.Year(), 1, 1, 0, 0, 0, 0, time.UTC), nil
	case "start of month":
		return time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC), nil
	case "start of day":
		return now.Truncate(24 * time.Hour), nil
	case "start of hour":
		return now.Truncate(time.Hour), nil
	case "start of minute":
		return now.Truncate(time.Minute), nil
	}
	if rest, ok := strings.CutPrefix(v, "+"); ok {
		rest = strings.TrimSpace(rest)
		i := 0
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			i++
		}
		n, err := strconv.Atoi(rest[:i])
		if err != nil {
			return time.Time{}, fmt.Errorf("start = %s: +N needs a number", s)
		}
		switch u := strings.TrimSuffix(strings.TrimSpace(rest[i:]), "s"); u {
		case "y", "year":
			return now.AddDate(n, 0, 0), nil
		case "m", "month":
			return now.AddDate(0, n, 0), nil
		case "w", "week":
			return now.AddDate(0, 0, 7*n), nil
		case "d", "day":
			return now.AddDate(0, 0, n), nil
		case "h", "hour":
			return now.Add(time.Duration(n) * time.Hour), nil
		case "t", "minute":
			return now.Add(time.Duration(n) * time.Minute), nil
		case "", "second":
			// "+30s" loses its "s" to TrimSuffix above.
			return now.Add(time.Duration(n) * time.Second), nil
		default:
			return time.Time{}, fmt.Errorf("start = %s: unknown unit %q (y, m, w, d, h, t, s)", s, u)
		}
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05", "2006-01-02 15:04", "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, strings.TrimSpace(s)); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("start = %s: not a date, now(), start of year|month|day|hour|minute or +N unit", s)
}

// FirstRun is when a task that starts at start and repeats every interval
// runs first: start itself, or for a start in the past the first of its
// repetitions that is not.
func FirstRun(start time.Time, every time.Duration, now time.Time) time.Time {
	if !start.Before(now) || every <= 0 {
		return start
	}
	k := (now.Sub(start) + every - 1) / every
	return start.Add(k * every)
}

func (*RunScheduler) request()  {}
func (*ExitScheduler) request() {}
func (*Schedule) request()      {}
func (*TaskControl) request()   {}

func schedulerID(toks []token, i int, line string) (int, error) {
	if i >= len(toks) {
		return 0, nil
	}
	id, err := strconv.Atoi(toks[i].text)
	if err != nil || id < 1 || i+1 != len(toks) {
		return 0, errAt(line, toks[i].pos, "a scheduler id is a number from 1")
	}
	return id, nil
}

func parseSchedule(toks []token, line string) (Request, error) {
	usage := `usage: schedule time = N seconds|minutes|hours|days and name = "NAME" [and start = DATE|now()|"start of day"|+N unit] [and scheduler = ID] task COMMAND`
	task := -1
	for i, t := range toks {
		if t.is("task") {
			task = i
			break
		}
	}
	if task < 0 || task == len(toks)-1 {
		return nil, errAt(line, len(line), "%s", usage)
	}
	kvs, err := parseKV(toks[1:task], line)
	if err != nil {
		return nil, err
	}
	s := &Schedule{Scheduler: 1, Task: strings.TrimSpace(line[toks[task+1].pos:])}
	for _, k := range kvs {
		switch k.key {
		case "time":
			d, err := parseDuration(k.value)
			if err != nil || d <= 0 {
				return nil, &Error{Status: statusWrongValue, Detail: fmt.Sprintf("The value '%s' is not allowed for the key 'time'", k.value), Pos: k.valPos, Line: line}
			}
			s.Every = d
		case "name":
			s.Name = k.value
		case "scheduler":
			id, err := strconv.Atoi(k.value)
			if err != nil || id < 1 {
				return nil, &Error{Status: statusWrongValue, Detail: "a scheduler id is a number from 1", Pos: k.valPos, Line: line}
			}
			s.Scheduler = id
		case "start":
			if _, err := ParseStart(k.value, time.Now()); err != nil {
				return nil, &Error{Status: statusWrongValue, Detail: err.Error(), Pos: k.valPos, Line: line}
			}
			s.Start = k.value
		default:
			return nil, unknownKey(k, line)
		}
	}
	if s.Every == 0 || s.Name == "" {
		return nil, errAt(line, len(line), "%s", usage)
	}
	return s, nil
}

func parseTaskControl(toks []token, line string) (Request, error) {
	usage := `usage: task stop|resume|remove|run|init where [scheduler = ID and] name = "NAME" [and start = DATE|+N unit (init)]`
	if len(toks) < 6 || !toks[2].is("where") {
		return nil, errAt(line, len(line), "%s", usage)
	}
	op := strings.ToLower(toks[1].text)
	switch op {
	case "stop", "resume", "remove", "run", "init":
	default:
		return nil, errAt(line, toks[1].pos, "%s", usage)
	}
	kvs, err := parseKV(toks[3:], line)
	if err != nil {
		return nil, err
	}
	tc := &TaskControl{Op: op, Scheduler: 1}
	for _, k := range kvs {
		switch k.key {
		case "name":
			tc.Name = k.value
		case "scheduler":
			id, err := strconv.Atoi(k.value)
			if err != nil || id < 1 {
				return nil, &Error{Status: statusWrongValue, Detail: "a scheduler id is a number from 1", Pos: k.valPos, Line: line}
			}
			tc.Scheduler = id
		case "start":
			if op != "init" {
				return nil, unknownKey(k, line)
			}
			if _, err := ParseStart(k.value, time.Now()); err != nil {
				return nil, &Error{Status: statusWrongValue, Detail: err.Error(), Pos: k.valPos, Line: line}
			}
			tc.Start = k.value
		default:
			return nil, unknownKey(k, line)
		}
	}
	if tc.Name == "" || (op == "init" && tc.Start == "") {
		return nil, errAt(line, len(line), "%s", usage)
	}
	return tc, nil
}
