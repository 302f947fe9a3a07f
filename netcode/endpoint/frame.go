package endpoint

import "encoding/binary"

// After the header, a packet holds zero or more frames, each one message or
// one fragment of a message:
//
//	lead    1 byte   bit 7: fragment; bits 0-6: channel id (127: ping, nothing follows)
//	id      2 bytes  message id, little-endian
//	index   uvarint  fragment frames only: fragment number, 0-based
//	count   uvarint  fragment frames only: fragments in the message (≥ 2)
//	total   uvarint  fragment frames only: length of the whole message
//	length  uvarint  payload length
//	payload
//
// A message of total bytes in count fragments is cut into pieces of
// ceil(total/count) bytes, the last one shorter, so the receiver can place
// any fragment without having seen the others.
const (
	frameFragment    byte = 0x80
	frameChannelMask byte = 0x7f
	pingFrame        byte = 0x7f // a one-byte frame that only asks for an ack
	// padFrame fills the rest of a path MTU probe: zero bytes up to the
	// end of the packet.
	padFrame byte = 0xff

	maxWholeFrameOverhead    = 1 + 2 + 3             // lead, id, length
	maxFragmentFrameOverhead = 1 + 2 + 3 + 3 + 4 + 3 // lead, id, index, count, total, length
	maxFragments             = 1<<16 - 1
)

// frame is one decoded frame; payload aliases the packet.
type frame struct {
	ping       bool
	pad        bool
	channel    int
	id         MessageID
	fragmented bool
	index      int
	count      int
	total      int
	payload    []byte
}

// wholePayload is the largest message sent unfragmented in a packet of size
// maxPacket.
func wholePayload(maxPacket int) int { return maxPacket - maxHeaderSize - maxWholeFrameOverhead }

// fragmentPayload is the largest fragment that fits a packet of size maxPacket.
func fragmentPayload(maxPacket int) int { return maxPacket - maxHeaderSize - maxFragmentFrameOverhead }

// fragmentCount is how many fragments of at most perFragment bytes hold size bytes.
func fragmentCount(size, perFragment int) int { return (size + perFragment - 1) / perFragment }

// fragmentSize is the length of every fragment but the last.
func fragmentSize(total, count int) int { return (total + count - 1) / count }

func uvarintLen(v int) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}

func wholeFrameLen(payload int) int { return 3 + uvarintLen(payload) + payload }

func fragmentFrameLen(index, count, total, payload int) int {
	return 3 + uvarintLen(index) + uvarintLen(count) + uvarintLen(total) + uvarintLen(payload) + payload
}

func appendWholeFrame(b []byte, channel int, id MessageID, payload []byte) []byte {
	b = append(b, byte(channel), byte(id), byte(id>>8))
	b = binary.AppendUvarint(b, uint64(len(payload)))
	return append(b, payload...)
}

func appendFragmentFrame(b []byte, channel int, id MessageID, index, count, total int, payload []byte) []byte {
	b = append(b, byte(channel)|frameFragment, byte(id), byte(id>>8))
	b = binary.AppendUvarint(b, uint64(index))
	b = binary.AppendUvarint(b, uint64(count))
	b = binary.AppendUvarint(b, uint64(total))
	b = binary.AppendUvarint(b, uint64(len(payload)))
	return append(b, payload...)
}

// readUvarint decodes a uvarint of at most limit from b.
func readUvarint(b []byte, limit int) (v, n int, err error) {
	u, n := binary.Uvarint(b)
	if n <= 0 || n > 4 || u > uint64(limit) {
		return 0, 0, errFrameVarint
	}
	return int(u), n, nil
}

// parseFrame decodes the frame at the start of b. It checks the frame's own
// consistency (lengths, fragment geometry, message size); the caller checks
// that the channel exists.
func parseFrame(b []byte, maxMessage int) (f frame, n int, err error) {
	if len(b) == 0 {
		return f, 0, errFrameShort
	}
	lead := b[0]
	if lead == pingFrame {
		return frame{ping: true}, 1, nil
	}
	if lead == padFrame {
		for _, z := range b[1:] {
			if z != 0 {
				return f, 0, errFramePadding
			}
		}
		return frame{pad: true}, len(b), nil
	}
	if len(b) < 3 {
		return f, 0, errFrameShort
	}
	f.channel = int(lead & frameChannelMask)
	f.fragmented = lead&frameFragment != 0
	f.id = MessageID(binary.LittleEndian.Uint16(b[1:]))
	n = 3
	var k int
	if f.fragmented {
		if f.index, k, err = readUvarint(b[n:], maxFragments-1); err != nil {
			return frame{}, 0, err
		}
		n += k
		if f.count, k, err = readUvarint(b[n:], maxFragments); err != nil {
			return frame{}, 0, err
		}
		n += k
		if f.total, k, err = readUvarint(b[n:], maxMessage); err != nil {
			return frame{}, 0, err
		}
		n += k
	}
	length, k, err := readUvarint(b[n:], len(b))
	if err != nil {
		return frame{}, 0, err
	}
	n += k
	if length > len(b)-n {
		return frame{}, 0, errFrameLength
	}
	f.payload = b[n : n+length : n+length]
	n += length
	if f.fragmented {
		if f.count < 2 || f.index >= f.count || f.total < f.count {
			return frame{}, 0, errFrameFragment
		}
		size := fragmentSize(f.total, f.count)
		last := f.total - (f.count-1)*size
		want := size
		if f.index == f.count-1 {
			want = last
		}
		if last <= 0 || length != want {
			return frame{}, 0, errFrameFragment
		}
	} else if length > maxMessage {
		return frame{}, 0, errFrameLength
	}
	return f, n, nil
}
