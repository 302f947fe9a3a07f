package clientui

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/tickwire/tickwire/demo-game/game"
	"github.com/tickwire/tickwire/demo-game/protocol"
	"github.com/tickwire/tickwire/netcode"
	"github.com/tickwire/tickwire/netcode/endpoint"
	"github.com/tickwire/tickwire/netcode/netsim"
	"github.com/tickwire/tickwire/netcode/state"
	"github.com/tickwire/tickwire/server/client"
)

// Client is the demo's client runtime: the public server/client package's
// Client predicting a game.Player with game.Input.
type Client = client.Client[game.Player, game.Input]

// ClientConfig returns the client.Config of the demo over the arena s
// (game.NewStatic()), from the pieces package protocol shares with the
// server: the snapshot codec, the own player rebuilt from its entity's
// fields, inputs encoded as game.Input.AppendBinary and each sent
// protocol.InputRedundancy times, game.StepPlayer as the prediction step,
// corrections measured as dx, dy in world units (snapping
// above protocol.SnapDistance, a respawn), and positions and velocities
// interpolated linearly, every other field in steps. The caller adds how to
// connect (Addr and Netcode, or Dial; see NetcodeConfig), the Reconnect
// policy and a Logger.
func ClientConfig(s *game.Static) client.Config[game.Player, game.Input] {
	return client.Config[game.Player, game.Input]{
		Netcode:         NetcodeConfig(),
		Codec:           protocol.Codec(),
		OwnState:        protocol.OwnState,
		AppendInput:     protocol.AppendInput,
		Step:            protocol.Stepper(s),
		Equal:           state.EqualComparable[game.Player],
		InputRedundancy: protocol.InputRedundancy,
		Correction:      protocol.Correction,
		CorrectionDims:  protocol.CorrectionDims,
		SnapDistance:    protocol.SnapDistance,
		Interp:          protocol.Interp(),
	}
}

// NetcodeConfig returns the connection settings of a demo client: the
// demo's protocol id and the default channel layout (which the server's
// channel defaults follow), with the packet size left for the connection
// layer to fit its own overhead into 1200-byte datagrams.
func NetcodeConfig() netcode.ClientConfig {
	ep := endpoint.DefaultConfig()
	ep.MaxPacketSize = 0
	return netcode.ClientConfig{ProtocolID: protocol.ProtocolID, Endpoint: ep}
}

// Conditioner changes the simulated conditions of the client's own link
// (both directions), live.
type Conditioner interface {
	SetConfig(cfg netsim.Config) error
}

// Online is the Source of a client of a demo server: a thin adapter that
// turns a Client's state into a View. Update runs the Client's frame with
// the local input; View draws the remote entities interpolated (Remote),
// the own player predicted and displaced by the fading correction
// (Predicted, SmoothOffset), the server's own player as the ghost, and
// feeds the HUD from the Client's Stats and Status. It builds no snapshot,
// sends no input and predicts nothing itself.
//
// The zero Online is not usable (NewOnline); it is not safe for concurrent
// use.
type Online struct {
	c      *Client
	static *game.Static
	link   Conditioner // nil: the network panel cannot change the link
	label  string

	view     []game.Entity
	ghost    game.Entity
	fieldBuf []int32
	loss     SnapshotLoss // the HUD's loss: snapshots lost over the last second
}

// NewOnline returns a source over c, which plays in the arena s. link (may
// be nil) applies the network panel's settings; label names the connection
// on screen (e.g. the server address).
func NewOnline(c *Client, s *game.Static, link Conditioner, label string) *Online {
	return &Online{c: c, static: s, link: link, label: label, fieldBuf: make([]int32, 0, game.NumEntityFields)}
}

// Client returns the client runtime, for its Stats and Status.
func (o *Online) Client() *Client { return o.c }

// Static returns the arena geometry.
func (o *Online) Static() *game.Static { return o.static }

// SetLink applies cfg to the client's link, or returns ErrNoLink when there
// is no conditioner.
func (o *Online) SetLink(cfg netsim.Config) error {
	if o.link == nil {
		return ErrNoLink
	}
	return o.link.SetConfig(cfg)
}

// Close closes the client. The simulated conditions are lifted first: the
// connection's disconnect packets must leave before the socket closes, and
// a conditioner holding them for its latency would drop them with it.
func (o *Online) Close() error {
	if o.link != nil {
		_ = o.link.SetConfig(netsim.Config{})
	}
	if err := o.c.Close(); err != nil && !errors.Is(err, client.ErrClosed) {
		return err
	}
	return nil
}

// Update runs the client's frame at now with the local input. A lost
// connection is no error: the View's Status says what happened (and when
// the client reconnects).
func (o *Online) Update(now time.Time, in game.Input, _ Toggles) error {
	o.c.Update(now, in)
	return nil
}

// View returns what to draw at now: remote entities interpolated (or as
// the newest snapshot has them, with t.Interpolation off), the own player
// predicted (or as the newest snapshot has it, with t.Prediction off), the
// server ghost, the HUD sample and the status lines. The entity slice is
// reused by the next call.
func (o *Online) View(now time.Time, t Toggles) View {
	st := o.c.Stats()
	status := o.c.Status()
	v := View{Status: o.status(status, st), Detail: detail(st), Warn: status.State != client.Connected}
	w, welcomed := o.c.Welcome()
	snap, _, ok := o.c.Newest()
	if !welcomed || !ok {
		return v
	}
	own := uint32(w.Player)
	v.Own, v.Tick = own, snap.Tick
	// Until the first acknowledgement the link has no RTT; keep such
	// readings out of the graphs.
	v.Online = status.State == client.Connected && st.RTT > 0
	// The loss graph shows the snapshots lost over the last second, which
	// follows a change of the link at once; the endpoint's figure averages
	// its last 1024 packets (15 s and more at the demo's rates), the
	// fallback until a second of snapshots has arrived.
	loss := st.Loss
	if w.TickRate > 0 && w.SnapshotRate > 0 {
		if l, ok := o.loss.Add(st.Connects, snap.Tick, st.Snapshots, float64(w.TickRate)/float64(w.SnapshotRate), uint32(w.TickRate)); ok {
			loss = l
		}
	}
	v.Sample = Sample{
		RTT: st.RTT, Jitter: st.Jitter, Loss: loss, InKbps: st.ReceivedKbps, OutKbps: st.SentKbps,
		SnapshotRate: st.SnapshotRate, InterpDelay: st.InterpDelay,
	}
	o.view = o.view[:0]
	if t.Interpolation {
		if f, ok := o.c.Remote(now); ok {
			for i := range f.Len() {
				if f.IDs[i] == own {
					continue
				}
				if e, ok := protocol.EntityFromFrame(f, i, o.fieldBuf); ok {
					o.view = append(o.view, e)
				}
			}
		}
	} else {
		for i := range snap.Len() {
			if snap.IDs[i] == own {
				continue
			}
			if e, err := game.EntityFromFields(snap.IDs[i], snap.Fields(i)); err == nil {
				o.view = append(o.view, e)
			}
		}
	}
	if i, ok := snap.Find(own); ok {
		if server, err := game.EntityFromFields(own, snap.Fields(i)); err == nil {
			e := server
			if p, _, ok := o.c.Predicted(); ok && t.Prediction {
				e = p.Entity()
				e.ID = own
				// Server-only fields come from the newest snapshot.
				e.Health, e.Score, e.Deaths, e.RespawnTicks = server.Health, server.Score, server.Deaths, server.RespawnTicks
				if off := o.c.SmoothOffset(now); len(off) == protocol.CorrectionDims {
					e.X += int32(math.Round(off[0] * game.FixedOne))
					e.Y += int32(math.Round(off[1] * game.FixedOne))
				}
				o.ghost = server
				v.Ghost = &o.ghost
			}
			o.view = append(o.view, e)
		}
	}
	v.Entities = o.view
	return v
}

// status is the first status line: the connection's state (with the
// reason it was lost and the reconnect countdown), and once welcomed the
// player ID.
func (o *Online) status(s client.Status, st client.Stats) string {
	if s.State != client.Connected || !s.Welcomed {
		return o.label + ": " + s.String()
	}
	w, _ := o.c.Welcome()
	line := fmt.Sprintf("%s: connected as player %d", o.label, w.Player)
	switch n := st.Connects - 1; {
	case n == 1:
		line += " (reconnected once)"
	case n > 1:
		line += fmt.Sprintf(" (reconnected %d times)", n)
	}
	return line + budgetText(st)
}

// detail is the second status line: the client runtime's corrections,
// stalls and input lead.
func detail(st client.Stats) string {
	line := fmt.Sprintf("corrections %d (%d snapped) | stalls %d/%d frames | input lead %d, +%d ticks",
		st.Corrections, st.SnappedCorrections, st.Stalls, st.Frames, st.InputLead, st.ExtraLead+st.LossLead)
	return line
}

// budgetText describes the server's send budget for this client and its
// estimate of the link, for the status line; "" when the server has none.
func budgetText(st client.Stats) string {
	if st.ServerSendBudget <= 0 {
		return ""
	}
	return fmt.Sprintf(" | server budget %.0f kbit/s, link est. %.0f kbit/s",
		float64(st.ServerSendBudget)*8/1000, float64(st.ServerEstimatedRate)*8/1000)
}
