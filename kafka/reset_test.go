package kafka

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
)

func TestResolveResets(t *testing.T) {
	starts := map[int32]int64{0: 0, 1: 10}
	ends := map[int32]int64{0: 250, 1: 300}
	committed := map[int32]int64{0: 125}
	cases := []struct {
		name    string
		target  ResetTarget
		want    []int64 // new offset of partitions 0 and 1
		wantErr string
	}{
		{"earliest", ResetTarget{Earliest: true}, []int64{0, 10}, ""},
		{"latest", ResetTarget{Latest: true}, []int64{250, 300}, ""},
		{"an offset inside every partition", ResetTarget{Offset: 100}, []int64{100, 100}, ""},
		{"the end of the shortest partition", ResetTarget{Offset: 250}, []int64{250, 250}, ""},
		{"beyond one partition's end", ResetTarget{Offset: 260}, nil, "partition 0 holds 0 to 250"},
		{"below one partition's start", ResetTarget{Offset: 5}, nil, "partition 1 holds 10 to 300"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := resolveResets(c.target, starts, ends, committed)
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("error %v, want one saying %q", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var offs []int64
			for _, r := range got {
				offs = append(offs, r.NewOffset)
			}
			if !slices.Equal(offs, c.want) {
				t.Fatalf("new offsets %v, want %v", offs, c.want)
			}
			if got[0].Committed != 125 || got[1].Committed != -1 || got[1].LogStart != 10 || got[1].HighWater != 300 {
				t.Fatalf("positions %+v: want the committed offset, log start and end of each partition", got)
			}
		})
	}
	if _, err := resolveResets(ResetTarget{Earliest: true}, nil, nil, nil); err == nil {
		t.Fatal("a topic without partitions was reset")
	}
}

func TestTopicChangedErrors(t *testing.T) {
	cases := []struct {
		err  error
		want bool
	}{
		{kerr.UnknownTopicID, true},
		{kerr.OffsetOutOfRange, true},
		{errors.Join(errors.New("fetching"), kerr.OffsetOutOfRange), true},
		{kerr.UnknownTopicOrPartition, false},
		{kerr.NotLeaderForPartition, false},
		{errors.New("connection refused"), false},
	}
	for _, c := range cases {
		if got := changeReason(c.err) != ""; got != c.want {
			t.Errorf("changeReason(%v) given: %v, want %v", c.err, got, c.want)
		}
	}
}
