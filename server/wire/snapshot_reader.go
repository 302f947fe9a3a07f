package wire

import (
	"errors"
	"fmt"

	"github.com/tickwire/tickwire/netcode/state"
)

// SnapshotReader is the client half of the snapshot stream: it decodes
// snapshot messages against the snapshots it decoded before (its History),
// and tracks whether the client must ask for a full snapshot (NeedResync:
// send it with InputWriter.SetResync).
//
// The zero SnapshotReader is not usable (NewSnapshotReader); it is not safe
// for concurrent use.
type SnapshotReader struct {
	dec     *state.Decoder
	hist    *state.History
	resync  bool
	newest  uint32
	hasNew  bool
	missing uint64
	stale   uint64
}

// NewSnapshotReader returns a reader for the server's codec config keeping
// history ticks of decoded snapshots; history must be at least the server's
// Config.SnapshotHistory (0 means DefaultSnapshotHistory).
func NewSnapshotReader(cfg state.CodecConfig, history int) (*SnapshotReader, error) {
	if history == 0 {
		history = DefaultSnapshotHistory
	}
	dec, err := state.NewDecoder(cfg)
	if err != nil {
		return nil, err
	}
	h, err := state.NewHistory(history)
	if err != nil {
		return nil, err
	}
	return &SnapshotReader{dec: dec, hist: h}, nil
}

// Read decodes a snapshot message. It returns the snapshot (owned by the
// reader, valid until its history slot is reused; do not modify it) and the
// message's header. A delta whose baseline the reader does not have returns
// an error wrapping state.ErrMissingBaseline and sets NeedResync; a snapshot
// older than one already decoded into its slot returns one wrapping
// state.ErrStaleSnapshot. A repeated message returns the snapshot decoded
// the first time.
func (r *SnapshotReader) Read(msg []byte) (*state.Snapshot, SnapshotHeader, error) {
	h, payload, err := DecodeSnapshotMessage(msg)
	if err != nil {
		return nil, h, err
	}
	snap, err := r.hist.Decode(r.dec, payload)
	if err != nil {
		switch {
		case errors.Is(err, state.ErrMissingBaseline):
			r.missing++
			r.resync = true
		case errors.Is(err, state.ErrStaleSnapshot):
			r.stale++
		}
		return nil, h, fmt.Errorf("wire: snapshot: %w", err)
	}
	if hdr, _ := r.dec.ReadHeader(payload); !hdr.Delta {
		r.resync = false
	}
	if !r.hasNew || snap.Tick > r.newest {
		r.newest, r.hasNew = snap.Tick, true
	}
	return snap, h, nil
}

// NeedResync reports whether a delta could not be decoded since the last
// full snapshot: the client should set InputWriter.SetResync until it is
// false again.
func (r *SnapshotReader) NeedResync() bool { return r.resync }

// Newest returns the newest tick decoded so far.
func (r *SnapshotReader) Newest() (tick uint32, ok bool) { return r.newest, r.hasNew }

// Get returns the decoded snapshot of tick if the reader still has it.
func (r *SnapshotReader) Get(tick uint32) (*state.Snapshot, bool) { return r.hist.Get(tick) }

// MissingBaselines and Stale count the snapshots that could not be decoded
// for want of their baseline, and those that arrived too old.
func (r *SnapshotReader) MissingBaselines() uint64 { return r.missing }

// Stale counts snapshots dropped for arriving after a newer one in their
// history slot.
func (r *SnapshotReader) Stale() uint64 { return r.stale }
