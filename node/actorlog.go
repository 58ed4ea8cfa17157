package node

import (
	"context"
	"log/slog"
)

// benignRemoteMessages are protoactor remote log messages about a peer
// endpoint going away. A --connect client exits after its commands, and a
// node of the cluster may stop: neither is an error of this node, and the
// node says itself what it does about it (cancels that asker's commands,
// counts a peer as lost).
var benignRemoteMessages = map[string]bool{
	"EndpointWriter lost connection": true,
}

// actorLogHandler is the handler of the actor system's logger: it lowers
// benignRemoteMessages to debug.
type actorLogHandler struct{ h slog.Handler }

func (a actorLogHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return a.h.Enabled(ctx, l)
}

func (a actorLogHandler) Handle(ctx context.Context, r slog.Record) error {
	if r.Level > slog.LevelDebug && benignRemoteMessages[r.Message] {
		r.Level = slog.LevelDebug
		if !a.h.Enabled(ctx, r.Level) {
			return nil
		}
	}
	return a.h.Handle(ctx, r)
}

func (a actorLogHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return actorLogHandler{a.h.WithAttrs(attrs)}
}

func (a actorLogHandler) WithGroup(name string) slog.Handler {
	return actorLogHandler{a.h.WithGroup(name)}
}
