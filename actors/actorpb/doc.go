// Package actorpb holds the protobuf messages that cross nodes: remote
// actor messages must be generated protobuf (protoactor's remote serializer).
// The generated code is committed.
package actorpb

//go:generate protoc --go_out=. --go_opt=paths=source_relative lakenode.proto
