package endpoint

import (
	"encoding/binary"
	"time"
)

// packetHeader is the start of every packet an Endpoint sends.
//
// Seq numbers the packet. When HasAck is set, Ack is the newest packet
// received from the peer and bit i of AckBits reports whether packet
// Ack-1-i was received too, so one header acknowledges up to 33 packets and
// an acknowledgement survives the loss of the packets that carried it before.
// When HasAckDelay is set too, AckDelay says how long the sender held the
// acknowledgement of packet Ack before this packet left, in units of
// ackDelayUnit, so that the peer's round-trip sample excludes it.
// The zero packetHeader has no ack: it is what a sender puts in its first
// packets, before it has received anything.
type packetHeader struct {
	Seq         seqNum
	Ack         seqNum
	AckBits     uint32
	HasAck      bool
	HasAckDelay bool
	AckDelay    uint32 // in ackDelayUnit, at most maxAckDelayUnits
}

// Wire layout, little-endian:
//
//	flags    1 byte
//	seq      2 bytes
//	ack      2 bytes      absent when flagNoAck is set
//	ackBits  0..4 bytes   byte i present when flags bit i is set
//	ackDelay 1..3 bytes   uvarint, present when flagAckDelay is set
//
// Ack-bit bytes that are zero are omitted, and flagAllAcked replaces all four
// bytes when every bit is set (the common case on a healthy link). The ack
// delay rides only in packets whose Ack is newer than the previous packet's
// (a packet that repeats an ack it already sent gives no new RTT sample), so
// a steady stream pays for it once per new ack: 1 byte up to 1 ms, 2 bytes up
// to 131 ms. Only the canonical encoding is accepted (a minimal uvarint
// included), so every valid header has exactly one encoding.
const (
	flagAckBytes byte = 0x0f // bit i: ack-bit byte i follows
	flagAllAcked byte = 0x10 // AckBits is 0xffffffff; no ack-bit bytes follow
	flagNoAck    byte = 0x20 // no ack field, no ack bits
	flagAckDelay byte = 0x40 // an ack-delay uvarint follows the ack bits
	flagReserved byte = 0x80

	// minHeaderSize is the size of a header without ack (3 bytes).
	minHeaderSize = 3
	// maxHeaderSize is the size of the longest header (12 bytes).
	maxHeaderSize = 12

	// ackDelayUnit is the resolution of the ack-delay field.
	ackDelayUnit = 8 * time.Microsecond
	// maxAckDelayUnits is the largest ack delay on the wire (about 16.8 s),
	// the most a 3-byte uvarint holds; longer holds are sent as this.
	maxAckDelayUnits = 1<<21 - 1
)

// ackDelayUnits quantizes a hold time for the header, rounding down.
func ackDelayUnits(d time.Duration) uint32 {
	if d <= 0 {
		return 0
	}
	return uint32(min(d/ackDelayUnit, maxAckDelayUnits))
}

// Len returns the encoded size of h.
func (h packetHeader) Len() int {
	if !h.HasAck {
		return minHeaderSize
	}
	n := 5
	if h.AckBits != ^uint32(0) {
		for i := range 4 {
			if byte(h.AckBits>>(8*i)) != 0 {
				n++
			}
		}
	}
	if h.HasAckDelay {
		n += uvarintLen(int(h.AckDelay))
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
	if h.HasAckDelay {
		flags |= flagAckDelay
	}
	b = append(b, flags, byte(h.Seq), byte(h.Seq>>8), byte(h.Ack), byte(h.Ack>>8))
	for i := range 4 {
		if flags&(1<<i) != 0 {
			b = append(b, byte(h.AckBits>>(8*i)))
		}
	}
	if h.HasAckDelay {
		b = binary.AppendUvarint(b, uint64(min(h.AckDelay, maxAckDelayUnits)))
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
	} else {
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
	}
	if flags&flagAckDelay != 0 {
		v, k := binary.Uvarint(b[n:])
		switch {
		case k == 0:
			return packetHeader{}, 0, errHeaderShort
		case k < 0 || v > maxAckDelayUnits || k != uvarintLen(int(v)):
			return packetHeader{}, 0, errHeaderAckDelay
		}
		h.HasAckDelay, h.AckDelay = true, uint32(v)
		n += k
	}
	return h, n, nil
}
