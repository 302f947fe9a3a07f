package wire

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type chatMsg struct {
	From string
	Text string
}

type hitMsg struct {
	Target uint32
	Damage int
}

func testMessages(t testing.TB) *Messages {
	m := NewMessages()
	require.NoError(t, m.Register(1, chatMsg{}))
	require.NoError(t, m.Register(2, hitMsg{}))
	return m
}

func TestMessagesRoundTrip(t *testing.T) {
	m := testMessages(t)
	for _, v := range []any{chatMsg{From: "ann", Text: "gg"}, hitMsg{Target: 7, Damage: -3}, &hitMsg{Target: 1}} {
		b, err := m.Append([]byte{0xEE}, v)
		require.NoError(t, err)
		assert.Equal(t, byte(0xEE), b[0], "Append keeps what b held")
		assert.Equal(t, byte(KindGame), MessageKind(b[1:]))
		got, err := m.Decode(b[1:])
		require.NoError(t, err)
		if p, ok := v.(*hitMsg); ok {
			v = *p
		}
		assert.Equal(t, v, got)
	}
	id, ok := m.ID(hitMsg{})
	assert.True(t, ok)
	assert.Equal(t, 2, id)
}

func TestMessagesRegisterErrors(t *testing.T) {
	m := testMessages(t)
	for _, tc := range []struct {
		id      int
		example any
		want    string
	}{
		{0, struct{}{}, "wire: invalid config: message type id 0, want 1..65535"},
		{70000, struct{}{}, "wire: invalid config: message type id 70000, want 1..65535"},
		{3, nil, "wire: invalid config: message type 3: example is nil, want a value such as Chat{}"},
		{3, &chatMsg{}, "wire: invalid config: message type 3: example is a pointer (*wire.chatMsg), want a value such as wire.chatMsg{}"},
		{1, struct{ A int }{}, "wire: invalid config: message type id 1 registered twice (wire.chatMsg and struct { A int })"},
		{3, chatMsg{}, "wire: invalid config: message type wire.chatMsg registered twice (ids 1 and 3)"},
	} {
		assert.EqualError(t, m.Register(tc.id, tc.example), tc.want)
	}
	_, err := m.Append(nil, struct{ B int }{})
	assert.ErrorIs(t, err, ErrInvalidConfig)
	_, err = (*Messages)(nil).Append(nil, chatMsg{})
	assert.ErrorIs(t, err, ErrInvalidConfig)
}

func TestMessagesDecodeRejects(t *testing.T) {
	m := testMessages(t)
	good, err := m.Append(nil, chatMsg{From: "a", Text: "b"})
	require.NoError(t, err)
	for name, b := range map[string][]byte{
		"empty":         {},
		"wrong kind":    append([]byte{KindWelcome}, good[1:]...),
		"unknown type":  {KindGame, 9, 0x80},
		"type too big":  {KindGame, 0xff, 0xff, 0x7f, 0x80},
		"no body":       {KindGame, 1},
		"truncated":     good[:len(good)-1],
		"trailing":      append(append([]byte{}, good...), 0),
		"wrong shape":   {KindGame, 2, 0xa3, 'a', 'b', 'c'}, // a string where hitMsg's map goes
		"bad type uvar": {KindGame, 0xff},
	} {
		_, err := m.Decode(b)
		assert.ErrorIs(t, err, ErrMalformedMessage, name)
	}
	_, err = (*Messages)(nil).Decode(good)
	assert.ErrorIs(t, err, ErrMalformedMessage)
}

func TestKick(t *testing.T) {
	b := AppendKick(nil, "too many pings")
	assert.Equal(t, byte(KindKick), MessageKind(b))
	r, err := DecodeKick(b)
	require.NoError(t, err)
	assert.Equal(t, "too many pings", r)

	long := make([]byte, 0, MaxKickReason+10)
	for len(long) < MaxKickReason-1 {
		long = append(long, 'x')
	}
	long = append(long, "éé"...) // the second é crosses the limit
	r, err = DecodeKick(AppendKick(nil, string(long)))
	require.NoError(t, err)
	assert.Equal(t, string(long[:MaxKickReason-1]), r, "cut before the rune that crosses the limit")

	for name, b := range map[string][]byte{
		"wrong kind": {KindGame, 0},
		"too long":   {KindKick, 0xc9, 0x01},
		"truncated":  {KindKick, 3, 'a'},
		"trailing":   {KindKick, 1, 'a', 'b'},
		"not utf8":   {KindKick, 1, 0xff},
	} {
		_, err := DecodeKick(b)
		assert.ErrorIs(t, err, ErrMalformedMessage, name)
	}
}

func FuzzMessagesDecode(f *testing.F) {
	m := testMessages(f)
	for _, v := range []any{chatMsg{From: "a", Text: "hello"}, hitMsg{Target: 3, Damage: 10}} {
		b, err := m.Append(nil, v)
		require.NoError(f, err)
		f.Add(b)
	}
	f.Add(AppendKick(nil, "bye"))
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := m.Decode(b)
		if err != nil {
			require.ErrorIs(t, err, ErrMalformedMessage)
			return
		}
		// What decodes re-encodes to a message that decodes to the same value.
		again, err := m.Append(nil, v)
		require.NoError(t, err)
		v2, err := m.Decode(again)
		require.NoError(t, err)
		require.Equal(t, v, v2)
		_, _ = DecodeKick(b)
	})
}
