package server

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tickwire/tickwire/server/wire"
)

// FuzzServerClientMessages feeds a connected client's channels arbitrary
// messages: data is a list of (channel 0..2, length, bytes) records. The
// server must neither panic nor disturb the connection, and must account
// for every message on the control and snapshot channels, handled or
// dropped.
func FuzzServerClientMessages(f *testing.F) {
	msgs := testMessages(f)
	rec := func(ch byte, m []byte) []byte { return append([]byte{ch, byte(len(m))}, m...) }
	chat, err := msgs.Append(nil, chatMsg{From: 3, Text: "hi"})
	require.NoError(f, err)
	hit, err := msgs.Append(nil, hitMsg{Target: 1, Damage: -4})
	require.NoError(f, err)
	in := wire.AppendInputMessage(nil, &wire.InputMessage{NewestTick: 2, Inputs: [][]byte{{1, 2}, {3}}})
	f.Add(rec(0, chat))
	f.Add(append(rec(0, hit), rec(1, in)...))
	f.Add(append(rec(0, wire.AppendKick(nil, "x")), rec(2, chat)...))
	f.Add(rec(0, []byte{wire.KindGame, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}))
	f.Add(rec(0, append(chat[:len(chat)-1:len(chat)-1], 0xdc, 0xff, 0xff)))
	f.Fuzz(func(t *testing.T, data []byte) {
		g := newMsgGame()
		ts := newMsgServer(t, Config{Messages: msgs}, g)
		ts.tr.connect(1)
		ts.stepTo(t, 0)
		counted := 0
		for len(data) >= 2 {
			ch, n := int(data[0]%3), int(data[1])
			data = data[2:]
			n = min(n, len(data))
			ts.tr.deliver(1, ch, data[:n])
			if ch != DefaultInputChannel {
				counted++
			}
			data = data[n:]
		}
		ts.stepTo(t, 1)
		st := ts.Stats()
		assert.Equal(t, uint64(counted), st.MessagesIn+st.MessagesDropped)
		assert.Equal(t, int(st.MessagesIn), len(g.got))
		assert.Empty(t, ts.tr.kicked)
		assert.Equal(t, []PlayerID{1}, ts.Players())
	})
}
