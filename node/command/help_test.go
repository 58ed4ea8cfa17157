package command

import (
	"errors"
	"strings"
	"testing"
)

func TestCommandsExamplesParse(t *testing.T) {
	names := map[string]bool{}
	for _, c := range Commands() {
		if c.Name == "" || c.Usage == "" || c.Example == "" || c.Summary == "" {
			t.Errorf("incomplete entry %+v", c)
		}
		if names[c.Name] {
			t.Errorf("%s listed twice", c.Name)
		}
		names[c.Name] = true
		if c.Name == "exit" {
			continue // the shell's own command
		}
		req, err := Parse(c.Example, nil)
		if err != nil || req == nil {
			t.Errorf("example of %s: %q gives %v, %v", c.Name, c.Example, req, err)
		}
	}
	// Every kind of request has an entry.
	for _, name := range []string{"run kafka consumer", "exit kafka", "sql", "run client", "get processes", "get msg client",
		"get msg brokers", "get streaming", "get operator", "get databases", "get tables", "get columns", "get rows count",
		"get error log", "get nodes", "connect dbms", "flush buffers", "set buffer threshold", "help", "variables",
		"run streamer", "run operator", "create work directories", "run tcp server", "run rest server", "run blockchain sync",
		"blockchain", "set node name"} {
		if !names[name] {
			t.Errorf("Commands() lacks %s", name)
		}
	}
}

func TestHelp(t *testing.T) {
	all, err := Help("")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range Commands() {
		if !strings.Contains(all, c.Name) {
			t.Errorf("help lacks %s", c.Name)
		}
	}
	cases := []struct {
		topic string
		has   []string
	}{
		{"get msg client", []string{"get msg client — ", "Usage:   get msg client [where id = N", "Example: get msg client where detailed = true"}},
		{"  SQL ", []string{"Usage:   sql DBMS", "Example: sql litsanleandro"}},
		{"run streamer", []string{"accepted and ignored: lakenode streams rows straight to its tables"}},
		{"get", []string{"get processes — ", "get operator — ", "get rows count — "}},
	}
	for _, c := range cases {
		h, err := Help(c.topic)
		if err != nil {
			t.Errorf("help %s: %v", c.topic, err)
			continue
		}
		for _, s := range c.has {
			if !strings.Contains(h, s) {
				t.Errorf("help %s lacks %q:\n%s", c.topic, s, h)
			}
		}
	}
	_, err = Help("nonsense")
	var ce *Error
	if !errors.As(err, &ce) || ce.Detail != "no help for \"nonsense\": `help` lists the commands" {
		t.Errorf("help nonsense: %#v", err)
	}
}
