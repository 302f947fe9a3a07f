package wire

// PlayerID identifies a connected client's player in a game. A server
// assigns ids from 1 upward and never reuses one while it runs.
type PlayerID uint32

// Limits both halves of the protocol agree on.
const (
	// MaxTickRate is the largest simulation tick rate a Welcome may carry.
	MaxTickRate = 1000
	// MaxInputSize is the largest encoded input of one tick, in bytes.
	MaxInputSize = 1024
	// DefaultSnapshotHistory is how many ticks of snapshots each side keeps
	// as delta baselines unless configured otherwise (about a second at
	// 60 Hz). A client must keep at least as many as the server.
	DefaultSnapshotHistory = 64
)
