package endpoint

import "encoding/binary"

// packetHeader is the start of every packet an Endpoint sends.
//
// Seq numbers the packet. When HasAck is set, Ack is the newest packet
// received from the peer and bit i of AckBits reports whether packet
// Ack-1-i was received too, so one header acknowledges up to 33 packets and
// an acknowledgement survives the loss of the packets that carried it before.
// The zero packetHeader has no ack: it is what a sender puts in its first
// packets, before it has received anything.
type packetHeader struct {
	Seq     seqNum
	Ack     seqNum
	AckBits uint32
	HasAck  bool
}

// Wire layout, little-endian:
//
//	flags  1 byte
//	seq    2 bytes
//	ack    2 bytes      absent when flagNoAck is set
//	ackBits 0..4 bytes  byte i present when flags bit i is set
//
// Ack-bit bytes that are zero are omitted, and flagAllAcked replaces all four
// bytes when every bit is set (the common case on a healthy link). Only the
// canonical encoding is accepted, so every valid header has exactly one
// encoding.
const (
	flagAckBytes byte = 0x0f // bit i: ack-bit byte i follows
	flagAllAcked byte = 0x10 // AckBits is 0xffffffff; no ack-bit bytes follow
	flagNoAck    byte = 0x20 // no ack field, no ack bits
	flagReserved byte = 0xc0

	// minHeaderSize is the size of a header without ack (3 bytes).
	minHeaderSize = 3
	// maxHeaderSize is the size of the longest header (9 bytes).
	maxHeaderSize = 9
)

// Len returns the encoded size of h.
func (h packetHeader) Len() int {
	if !h.HasAck {
		return minHeaderSize
	}
	if h.AckBits == ^uint32(0) {
		return 5
	}
	n := 5
	for i := range 4 {
		if byte(h.AckBits>>(8*i)) != 0 {
			n++
		}
	}
	return n
}

// Append appends the encoding of h to b and returns the extended slice. It
// does not allocate when b has room for Len more bytes.
func (h packetHeader) Append(b []byte) []byte {
	if !h.HasAck {
		return append(b, flagNoAck, byte(h.Seq), byte(h.Seq>>8))
	}
	var flags byte
	if h.AckBits == ^uint32(0) {
		flags = flagAllAcked
	} else {
		for i := range 4 {
			if byte(h.AckBits>>(8*i)) != 0 {
				flags |= 1 << i
			}
		}
	}
	b = append(b, flags, byte(h.Seq), byte(h.Seq>>8), byte(h.Ack), byte(h.Ack>>8))
	for i := range 4 {
		if flags&(1<<i) != 0 {
			b = append(b, byte(h.AckBits>>(8*i)))
		}
	}
	return b
}

// parseHeader decodes the header at the start of b and returns it with the
// number of bytes it took. Errors wrap ErrMalformedPacket and say what was
// wrong: too short, reserved bits set, or a non-canonical encoding.
func parseHeader(b []byte) (h packetHeader, n int, err error) {
	if len(b) < minHeaderSize {
		return packetHeader{}, 0, errHeaderShort
	}
	flags := b[0]
	if flags&flagReserved != 0 {
		return packetHeader{}, 0, errHeaderReserved
	}
	h.Seq = seqNum(binary.LittleEndian.Uint16(b[1:]))
	if flags&flagNoAck != 0 {
		if flags != flagNoAck {
			return packetHeader{}, 0, errHeaderFlags
		}
		return h, minHeaderSize, nil
	}
	if flags&flagAllAcked != 0 && flags&flagAckBytes != 0 {
		return packetHeader{}, 0, errHeaderFlags
	}
	n = 5
	if len(b) < n {
		return packetHeader{}, 0, errHeaderShort
	}
	h.HasAck = true
	h.Ack = seqNum(binary.LittleEndian.Uint16(b[3:]))
	if flags&flagAllAcked != 0 {
		h.AckBits = ^uint32(0)
		return h, n, nil
	}
	for i := range 4 {
		if flags&(1<<i) == 0 {
			continue
		}
		if len(b) <= n {
			return packetHeader{}, 0, errHeaderShort
		}
		if b[n] == 0 {
			return packetHeader{}, 0, errHeaderAckBits // a zero byte is omitted, never sent
		}
		h.AckBits |= uint32(b[n]) << (8 * i)
		n++
	}
	if h.AckBits == ^uint32(0) {
		return packetHeader{}, 0, errHeaderAckBits // must use flagAllAcked
	}
	return h, n, nil
}
