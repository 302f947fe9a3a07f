package clientui

import (
	"fmt"
	"time"

	"github.com/tickwire/tickwire/demo-game/game"
	"github.com/tickwire/tickwire/netcode"
	"github.com/tickwire/tickwire/netcode/netsim"
)

// Conn is what the client needs of a connection to the demo server: the
// netcode connection layer's Client has this shape. Its methods are called
// from the client's game loop only.
type Conn interface {
	// Update receives what arrived, handles timeouts and keepalives, and
	// flushes what was sent, at now.
	Update(now time.Time) error
	// Send queues msg on channel.
	Send(channel int, msg []byte) (netcode.MessageID, error)
	// ReadMessage returns the next message received on channel.
	ReadMessage(channel int) (msg []byte, ok bool)
	// Stats returns the link measurements (RTT, loss, kbps).
	Stats() netcode.Stats
	Close() error
}

// Conditioner changes the simulated conditions of the client's own link
// (both directions), live.
type Conditioner interface {
	SetConfig(cfg netsim.Config) error
}

// Online is the Source of a client connected to a demo server: each tick it
// hands the server's messages to a Session, sends the session's input
// message, and updates the connection; the HUD is fed from the connection's
// measurements and the session's.
type Online struct {
	conn  Conn
	link  Conditioner // nil: the network panel cannot change the link
	sess  *Session
	label string
}

// NewOnline returns a source over conn; link (may be nil) applies the
// network panel's settings. label names the connection on screen (e.g. the
// server address).
func NewOnline(conn Conn, link Conditioner, label string) (*Online, error) {
	sess, err := NewSession(SessionConfig{})
	if err != nil {
		return nil, err
	}
	return &Online{conn: conn, link: link, sess: sess, label: label}, nil
}

// Session returns the client half of the protocol, for its statistics.
func (o *Online) Session() *Session { return o.sess }

// Static returns the arena geometry.
func (o *Online) Static() *game.Static { return o.sess.Static() }

// SetLink applies cfg to the client's link, or returns ErrNoLink when there
// is no conditioner.
func (o *Online) SetLink(cfg netsim.Config) error {
	if o.link == nil {
		return ErrNoLink
	}
	return o.link.SetConfig(cfg)
}

// Close closes the connection. The simulated conditions are lifted first:
// the connection's disconnect packets must leave before the socket closes,
// and a conditioner holding them for its latency would drop them with it.
func (o *Online) Close() error {
	if o.link != nil {
		_ = o.link.SetConfig(netsim.Config{})
	}
	return o.conn.Close()
}

// Update reads the server's messages, runs the session's tick with in,
// sends its input message and updates the connection. A connection error
// (timeout, server shutdown) is returned and ends the game.
func (o *Online) Update(now time.Time, in game.Input, _ Toggles) error {
	o.sess.SetRTT(o.conn.Stats().RTT)
	for _, ch := range []int{ControlChannel, SnapshotChannel} {
		for {
			msg, ok := o.conn.ReadMessage(ch)
			if !ok {
				break
			}
			// Undecodable snapshots are counted by the session and
			// recovered by a resync; they do not end the game.
			_ = o.sess.HandleMessage(now, msg)
		}
	}
	for _, msg := range o.sess.Tick(now, in) {
		if _, err := o.conn.Send(InputChannel, msg); err != nil {
			return fmt.Errorf("clientui: send input: %w", err)
		}
	}
	return o.conn.Update(now)
}

// View returns the session's view with the link's measurements.
func (o *Online) View(now time.Time, t Toggles) View {
	v := o.sess.View(now, t)
	st := o.conn.Stats()
	// Until the first acknowledgement the link has no RTT; keep such
	// readings out of the graphs.
	v.Online = v.Online && st.RTT > 0
	v.Sample = Sample{
		RTT: st.RTT, Jitter: st.RTTVar, Loss: st.PacketLoss,
		InKbps: st.ReceivedKbps, OutKbps: st.SentKbps,
		SnapshotRate: o.sess.SnapshotRate(now), InterpDelay: o.sess.InterpDelay(),
	}
	ss := o.sess.Stats()
	id, ok := o.sess.Welcomed()
	switch {
	case !ok:
		v.Status = o.label + ": waiting for the welcome"
	default:
		v.Status = fmt.Sprintf("%s: player %d | corrections %d | stalls %d/%d frames",
			o.label, id, ss.Corrections, ss.Stalls, ss.Frames)
	}
	return v
}
