package endpoint

import (
	"bytes"
	"fmt"

	"github.com/vmihailenco/msgpack/v5"
)

// Codec encodes Go values as msgpack messages and decodes them back, reusing
// one encoder, one decoder and their buffers across calls. Any value msgpack
// can encode works, with no registry of types. Struct fields are encoded by
// reflection unless the type implements msgpack.CustomEncoder and
// msgpack.CustomDecoder; hot-path types (inputs, snapshots) should, since the
// low-level Encoder/Decoder methods do not allocate.
//
// The zero Codec is ready to use. A Codec is not safe for concurrent use.
type Codec struct {
	buf bytes.Buffer
	enc *msgpack.Encoder
	rd  bytes.Reader
	dec *msgpack.Decoder
}

// Encode returns the msgpack encoding of v. The slice is valid until the
// next call of Encode or Send on c.
func (c *Codec) Encode(v any) ([]byte, error) {
	if c.enc == nil {
		c.enc = msgpack.NewEncoder(&c.buf)
		c.enc.UseCompactInts(true)
	}
	c.buf.Reset()
	if err := c.enc.Encode(v); err != nil {
		return nil, fmt.Errorf("endpoint: encode %T: %w", v, err)
	}
	return c.buf.Bytes(), nil
}

// Decode decodes the msgpack message msg into v, which must be a pointer.
func (c *Codec) Decode(msg []byte, v any) error {
	c.rd.Reset(msg)
	if c.dec == nil {
		c.dec = msgpack.NewDecoder(&c.rd)
	} else {
		c.dec.Reset(&c.rd) // forget whatever a failed decode left behind
	}
	if err := c.dec.Decode(v); err != nil {
		return fmt.Errorf("endpoint: decode %T: %w", v, err)
	}
	return nil
}

// Send encodes v and queues it on channel of e, like Endpoint.Send.
func (c *Codec) Send(e *Endpoint, channel int, v any) (MessageID, error) {
	b, err := c.Encode(v)
	if err != nil {
		return 0, err
	}
	return e.Send(channel, b)
}

// Read decodes the next message delivered on channel of e into v. It
// returns false, with a nil error, when there is no message. A message that
// does not decode is consumed and reported.
func (c *Codec) Read(e *Endpoint, channel int, v any) (ok bool, err error) {
	msg, ok := e.ReadMessage(channel)
	if !ok {
		return false, nil
	}
	return true, c.Decode(msg, v)
}

// SendValue encodes v as msgpack with the endpoint's own Codec and queues it
// on channel.
func (e *Endpoint) SendValue(channel int, v any) (MessageID, error) {
	return e.codec.Send(e, channel, v)
}

// ReadValue decodes the next message delivered on channel into v, which must
// be a pointer, with the endpoint's own Codec. It returns false when there
// is no message.
func (e *Endpoint) ReadValue(channel int, v any) (ok bool, err error) {
	return e.codec.Read(e, channel, v)
}
