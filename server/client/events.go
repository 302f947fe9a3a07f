package client

import "strconv"

// EventKind says what an EntityEvent reports.
type EventKind uint8

// Entity event kinds.
const (
	// Spawned: the entity entered the client's view.
	Spawned EventKind = iota + 1
	// Despawned: the entity left the client's view (or the connection was
	// lost: every entity of the old world despawns).
	Despawned
)

// String returns "spawned" or "despawned".
func (k EventKind) String() string {
	switch k {
	case Spawned:
		return "spawned"
	case Despawned:
		return "despawned"
	}
	return "EventKind(" + strconv.Itoa(int(k)) + ")"
}

// EntityEvent reports an entity entering or leaving the client's view.
// Each entity ID is reported Spawned once when it appears and Despawned
// once when it leaves, alternating, even when the snapshot that first
// showed the change was lost: the entity set of every newer snapshot the
// client applies is compared with the previous one's.
type EntityEvent struct {
	Kind EventKind
	ID   uint32
	// Tick is the tick of the snapshot that showed the change (for a
	// despawn on disconnect, the newest snapshot's).
	Tick uint32
	// The entity's kind will be reported here once netcode/state gives
	// snapshot entities one.
}

// appendDiff appends to dst the events that turn the entity set prev into
// cur (both sorted, strictly increasing, as decoded snapshots are): spawns
// and despawns in ID order.
func appendDiff(dst []EntityEvent, prev, cur []uint32, tick uint32) []EntityEvent {
	i, j := 0, 0
	for i < len(prev) || j < len(cur) {
		switch {
		case j == len(cur) || (i < len(prev) && prev[i] < cur[j]):
			dst = append(dst, EntityEvent{Kind: Despawned, ID: prev[i], Tick: tick})
			i++
		case i == len(prev) || cur[j] < prev[i]:
			dst = append(dst, EntityEvent{Kind: Spawned, ID: cur[j], Tick: tick})
			j++
		default:
			i++
			j++
		}
	}
	return dst
}
