package endpoint_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/vmihailenco/msgpack/v5"

	"github.com/tickwire/tickwire/netcode/endpoint"
	"github.com/tickwire/tickwire/netcode/netsim"
)

type chat struct {
	From string
	Text string
	Tags []string
}

// input implements msgpack's custom coder interfaces with the low-level
// API, the way a game's hot-path types should.
type input struct {
	Tick    uint32
	MoveX   int8
	MoveY   int8
	Buttons uint16
}

func (in *input) EncodeMsgpack(enc *msgpack.Encoder) error {
	if err := enc.EncodeArrayLen(4); err != nil {
		return err
	}
	for _, v := range []uint64{uint64(in.Tick), uint64(uint8(in.MoveX)), uint64(uint8(in.MoveY)), uint64(in.Buttons)} {
		if err := enc.EncodeUint(v); err != nil {
			return err
		}
	}
	return nil
}

func (in *input) DecodeMsgpack(dec *msgpack.Decoder) error {
	if _, err := dec.DecodeArrayLen(); err != nil {
		return err
	}
	var vals [4]uint64
	for i := range vals {
		v, err := dec.DecodeUint64()
		if err != nil {
			return err
		}
		vals[i] = v
	}
	in.Tick, in.MoveX, in.MoveY, in.Buttons = uint32(vals[0]), int8(vals[1]), int8(vals[2]), uint16(vals[3])
	return nil
}

func TestCodecRoundTripOverEndpoints(t *testing.T) {
	p := newPair(t, endpoint.Config{}, netsim.Config{Latency: 5 * time.Millisecond}, netsim.Config{}, 30)
	sent := chat{From: "ana", Text: "gg", Tags: []string{"team", "all"}}
	_, err := p.a.SendValue(chReliable, sent)
	require.NoError(t, err)
	var codec endpoint.Codec
	_, err = codec.Send(p.a, chUnreliable, &input{Tick: 42, MoveX: -1, MoveY: 1, Buttons: 0x8001})
	require.NoError(t, err)

	p.step(10 * time.Millisecond)
	p.step(10 * time.Millisecond)

	var got chat
	ok, err := p.b.ReadValue(chReliable, &got)
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, sent, got)

	var in input
	ok, err = codec.Read(p.b, chUnreliable, &in)
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, input{Tick: 42, MoveX: -1, MoveY: 1, Buttons: 0x8001}, in)

	ok, err = p.b.ReadValue(chReliable, &got)
	assert.False(t, ok)
	assert.NoError(t, err)
}

func TestCodecErrors(t *testing.T) {
	var c endpoint.Codec
	_, err := c.Encode(make(chan int))
	assert.ErrorContains(t, err, "endpoint: encode chan int")
	var v chat
	err = c.Decode([]byte{0xc1}, &v) // 0xc1 is never used by msgpack
	assert.ErrorContains(t, err, "endpoint: decode *endpoint_test.chat")
}

func TestCodecCustomTypeNoAllocs(t *testing.T) {
	var c endpoint.Codec
	in := &input{Tick: 7, MoveX: 1}
	var out input
	allocs := testing.AllocsPerRun(100, func() {
		b, err := c.Encode(in)
		if err != nil {
			panic(err)
		}
		if err := c.Decode(b, &out); err != nil {
			panic(err)
		}
	})
	assert.Zero(t, allocs)
	assert.Equal(t, *in, out)
}
