package endpoint

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestHeaderRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		h    packetHeader
		size int
	}{
		{"no ack", packetHeader{Seq: 7}, 3},
		{"ack, no bits", packetHeader{Seq: 1, Ack: 2, HasAck: true}, 5},
		{"all acked", packetHeader{Seq: 65535, Ack: 65535, AckBits: 0xffffffff, HasAck: true}, 5},
		{"low byte", packetHeader{Seq: 300, Ack: 299, AckBits: 0x000000ff, HasAck: true}, 6},
		{"two bytes", packetHeader{Seq: 300, Ack: 299, AckBits: 0x00ff00f0, HasAck: true}, 7},
		{"one bit missing", packetHeader{Seq: 9, Ack: 8, AckBits: 0xfffffffe, HasAck: true}, 9},
		{"high bit", packetHeader{Seq: 0, Ack: 65535, AckBits: 0x80000000, HasAck: true}, 6},
		{"ack delay 0", packetHeader{Seq: 5, Ack: 4, AckBits: ^uint32(0), HasAck: true, HasAckDelay: true}, 6},
		{"ack delay 1 ms", packetHeader{Seq: 5, Ack: 4, AckBits: 0xff, HasAck: true, HasAckDelay: true, AckDelay: 125}, 7},
		{"ack delay 40 ms", packetHeader{Seq: 5, Ack: 4, AckBits: 0xfffffffe, HasAck: true, HasAckDelay: true, AckDelay: 5000}, 11},
		{"longest", packetHeader{Seq: 5, Ack: 4, AckBits: 0x7fffffff, HasAck: true, HasAckDelay: true, AckDelay: maxAckDelayUnits}, maxHeaderSize},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := tt.h.Append([]byte{0xaa}) // appends after existing bytes
			require.Len(t, b, 1+tt.size)
			assert.Equal(t, tt.size, tt.h.Len())
			got, n, err := parseHeader(append(b[1:], 0x42)) // trailing payload is left alone
			require.NoError(t, err)
			assert.Equal(t, tt.size, n)
			assert.Equal(t, tt.h, got)
		})
	}
}

func TestHeaderKnownEncoding(t *testing.T) {
	h := packetHeader{Seq: 0x0102, Ack: 0x0304, AckBits: 0x00ab0001, HasAck: true}
	assert.Equal(t, []byte{0x05, 0x02, 0x01, 0x04, 0x03, 0x01, 0xab}, h.Append(nil))
	assert.Equal(t, []byte{0x20, 0xff, 0xff}, packetHeader{Seq: 65535}.Append(nil))
	assert.Equal(t, []byte{0x10, 0, 0, 0, 0}, packetHeader{HasAck: true, AckBits: ^uint32(0)}.Append(nil))
	assert.Equal(t, []byte{0x10, 0x64, 0x00, 0x39, 0x00}, packetHeader{Seq: 100, Ack: 57, AckBits: ^uint32(0), HasAck: true}.Append(nil))
	// 40 ms = 5000 units of 8 µs: uvarint 0x88 0x27.
	assert.Equal(t, []byte{0x50, 0x64, 0x00, 0x39, 0x00, 0x88, 0x27},
		packetHeader{Seq: 100, Ack: 57, AckBits: ^uint32(0), HasAck: true, HasAckDelay: true, AckDelay: 5000}.Append(nil))
}

func TestAckDelayUnits(t *testing.T) {
	tests := []struct {
		hold time.Duration
		want uint32
	}{
		{-time.Millisecond, 0},
		{0, 0},
		{7 * time.Microsecond, 0}, // rounds down
		{8 * time.Microsecond, 1},
		{40 * time.Millisecond, 5000},
		{16 * time.Second, 2_000_000},
		{time.Hour, maxAckDelayUnits}, // saturates
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, ackDelayUnits(tt.hold), "hold %v", tt.hold)
	}
}

func TestParseHeaderErrors(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		want error
	}{
		{"empty", nil, errHeaderShort},
		{"two bytes", []byte{0x20, 1}, errHeaderShort},
		{"ack truncated", []byte{0x00, 1, 0, 2}, errHeaderShort},
		{"ack bits truncated", []byte{0x03, 1, 0, 2, 0, 0xff}, errHeaderShort},
		{"reserved bit", []byte{0x80, 1, 0, 2, 0}, errHeaderReserved},
		{"no ack with delay", []byte{0x60, 1, 0}, errHeaderFlags},
		{"ack delay missing", []byte{0x40, 1, 0, 2, 0}, errHeaderShort},
		{"ack delay truncated", []byte{0x41, 1, 0, 2, 0, 7, 0x80}, errHeaderShort},
		{"ack delay not minimal", []byte{0x50, 1, 0, 2, 0, 0x85, 0x00}, errHeaderAckDelay},
		{"ack delay too long", []byte{0x50, 1, 0, 2, 0, 0x80, 0x80, 0x80, 0x01}, errHeaderAckDelay},
		{"no ack with bits", []byte{0x21, 1, 0}, errHeaderFlags},
		{"all acked with bytes", []byte{0x11, 1, 0, 2, 0, 1}, errHeaderFlags},
		{"zero byte sent", []byte{0x01, 1, 0, 2, 0, 0}, errHeaderAckBits},
		{"all ones spelled out", []byte{0x0f, 1, 0, 2, 0, 0xff, 0xff, 0xff, 0xff}, errHeaderAckBits},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, n, err := parseHeader(tt.in)
			assert.ErrorIs(t, err, ErrMalformedPacket)
			assert.Equal(t, tt.want, err)
			assert.Zero(t, n)
			assert.Contains(t, err.Error(), "endpoint: malformed packet: ")
		})
	}
}

func TestHeaderNoAllocs(t *testing.T) {
	buf := make([]byte, 0, maxHeaderSize)
	h := packetHeader{Seq: 12, Ack: 11, AckBits: 0x0f0f0f0f, HasAck: true}
	allocs := testing.AllocsPerRun(100, func() {
		b := h.Append(buf[:0])
		if _, _, err := parseHeader(b); err != nil {
			panic(err)
		}
		_, _, _ = parseHeader(b[:2]) // the error path does not allocate either
	})
	assert.Zero(t, allocs)
}

func FuzzParseHeader(f *testing.F) {
	for _, h := range []packetHeader{
		{Seq: 1},
		{Seq: 2, Ack: 1, HasAck: true},
		{Seq: 3, Ack: 2, AckBits: ^uint32(0), HasAck: true},
		{Seq: 65535, Ack: 0, AckBits: 0x12003400, HasAck: true},
		{Seq: 9, Ack: 8, AckBits: ^uint32(0), HasAck: true, HasAckDelay: true, AckDelay: 1250},
		{Seq: 9, Ack: 8, AckBits: 0x1, HasAck: true, HasAckDelay: true, AckDelay: maxAckDelayUnits},
	} {
		f.Add(h.Append(nil))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		h, n, err := parseHeader(b)
		if err != nil {
			if n != 0 {
				t.Fatalf("n = %d with error %v", n, err)
			}
			return
		}
		// Only canonical encodings are accepted, so re-encoding gives the input back.
		if got := h.Append(nil); string(got) != string(b[:n]) {
			t.Fatalf("parseHeader(%x) = %+v, which encodes as %x", b[:n], h, got)
		}
	})
}

func BenchmarkHeaderAppend(b *testing.B) {
	buf := make([]byte, 0, maxHeaderSize)
	h := packetHeader{Seq: 12, Ack: 11, AckBits: 0xfff0ffff, HasAck: true}
	b.ReportAllocs()
	for b.Loop() {
		buf = h.Append(buf[:0])
	}
}

func BenchmarkParseHeader(b *testing.B) {
	buf := packetHeader{Seq: 12, Ack: 11, AckBits: 0xfff0ffff, HasAck: true}.Append(nil)
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := parseHeader(buf); err != nil {
			b.Fatal(err)
		}
	}
}
