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
}

// TaskControl is `task stop|resume|remove|run where [scheduler = ID and] name = "..."`.
type TaskControl struct {
	Op        string
	Name      string
	Scheduler int
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
	usage := `usage: schedule time = N seconds|minutes|hours|days and name = "NAME" [and scheduler = ID] task COMMAND`
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
			return nil, unsupported(line, k.keyPos, "schedule ... start = (a task first runs one interval after it is scheduled)")
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
	usage := `usage: task stop|resume|remove|run where [scheduler = ID and] name = "NAME"`
	if len(toks) < 6 || !toks[2].is("where") {
		return nil, errAt(line, len(line), "%s", usage)
	}
	op := strings.ToLower(toks[1].text)
	switch op {
	case "stop", "resume", "remove", "run":
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
		default:
			return nil, unknownKey(k, line)
		}
	}
	if tc.Name == "" {
		return nil, errAt(line, len(line), "%s", usage)
	}
	return tc, nil
}
