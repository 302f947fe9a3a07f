package client

import (
	"strconv"

	"github.com/tickwire/tickwire/netcode/state"
)

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
// client applies is compared with the previous one's. An entity whose
// kind changed is a new entity under the same ID (the codec sends it so):
// Despawned with the old kind, then Spawned with the new one.
type EntityEvent struct {
	Kind EventKind
	ID   uint32
	// EntityKind is the entity's kind (its index in the Codec's Kinds; 0
	// with a single Schema): as it appears for a spawn, as it was for a
	// despawn.
	EntityKind uint8
	// Tick is the tick of the snapshot that showed the change (for a
	// despawn on disconnect, the newest snapshot's).
	Tick uint32
}

// appendDiff appends to dst the events that turn the entities of prev into
// those of cur (IDs sorted, strictly increasing, as decoded snapshots are;
// nil is empty), in ID order, stamped with tick.
func appendDiff(dst []EntityEvent, prev, cur *state.Snapshot, tick uint32) []EntityEvent {
	var np, nc int
	if prev != nil {
		np = prev.Len()
	}
	if cur != nil {
		nc = cur.Len()
	}
	i, j := 0, 0
	for i < np || j < nc {
		switch {
		case j == nc || (i < np && prev.IDs[i] < cur.IDs[j]):
			dst = append(dst, EntityEvent{Kind: Despawned, ID: prev.IDs[i], EntityKind: prev.Kind(i), Tick: tick})
			i++
		case i == np || cur.IDs[j] < prev.IDs[i]:
			dst = append(dst, EntityEvent{Kind: Spawned, ID: cur.IDs[j], EntityKind: cur.Kind(j), Tick: tick})
			j++
		default:
			if a, b := prev.Kind(i), cur.Kind(j); a != b {
				dst = append(dst,
					EntityEvent{Kind: Despawned, ID: prev.IDs[i], EntityKind: a, Tick: tick},
					EntityEvent{Kind: Spawned, ID: cur.IDs[j], EntityKind: b, Tick: tick})
			}
			i++
			j++
		}
	}
	return dst
}
