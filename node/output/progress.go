package output

import (
	"context"
	"sync/atomic"
)

type progressKey struct{}

// WithProgress returns a context under which the node counts into rows
// the rows its queries scan for the command run with it (the shell's
// progress line).
func WithProgress(ctx context.Context, rows *atomic.Int64) context.Context {
	return context.WithValue(ctx, progressKey{}, rows)
}

// ProgressFrom returns the counter WithProgress put in ctx, or nil.
func ProgressFrom(ctx context.Context) *atomic.Int64 {
	rows, _ := ctx.Value(progressKey{}).(*atomic.Int64)
	return rows
}
