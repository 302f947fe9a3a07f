package main

import (
	"encoding/binary"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestUDPRoomsForwardsToTheRoomOnly: the plain UDP floor server forwards an
// update to the sender's room members and to no one else, the updates of a
// tick in one datagram, and drops indexes out of its range.
func TestUDPRoomsForwardsToTheRoomOnly(t *testing.T) {
	srv, err := udpRoomsServer()
	require.NoError(t, err)
	defer srv.close()
	to, err := net.ResolveUDPAddr("udp4", srv.addr())
	require.NoError(t, err)
	idx := []uint64{0, 1, 2, roomSize} // three in room 0, one in room 1
	cs := make([]*net.UDPConn, len(idx))
	for k, i := range idx {
		c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		require.NoError(t, err)
		defer c.Close()
		cs[k] = c
		hello := binary.LittleEndian.AppendUint64(nil, i)
		_, err = c.WriteToUDP(hello, to)
		require.NoError(t, err)
	}
	time.Sleep(5 * serverTick) // the hellos are read
	update := func(i, seq uint64) []byte {
		b := make([]byte, 32)
		binary.LittleEndian.PutUint64(b, i)
		binary.LittleEndian.PutUint64(b[8:], seq)
		return b
	}
	// Out of range: dropped, never indexed.
	_, err = cs[0].WriteToUDP(update(udpMaxClients, 9), to)
	require.NoError(t, err)
	// Two updates from client 0, one from client 1, before the next tick
	// can run them apart: client 2 gets them in one or two datagrams.
	for _, u := range [][]byte{update(0, 1), update(0, 2), update(1, 3)} {
		_, err = cs[u[0]].WriteToUDP(u, to)
		require.NoError(t, err)
	}
	read := func(c *net.UDPConn, want int) []uint64 {
		var seqs []uint64
		buf := make([]byte, 2048)
		for len(seqs) < want {
			require.NoError(t, c.SetReadDeadline(time.Now().Add(5*time.Second)))
			n, err := c.Read(buf)
			require.NoError(t, err)
			require.Zero(t, n%32, "whole updates only")
			for b := buf[:n]; len(b) > 0; b = b[32:] {
				seqs = append(seqs, binary.LittleEndian.Uint64(b[8:]))
			}
		}
		return seqs
	}
	assert.Equal(t, []uint64{3}, read(cs[0], 1), "client 0 gets client 1's update, not its own")
	assert.Equal(t, []uint64{1, 2}, read(cs[1], 2), "client 1 gets client 0's two")
	assert.ElementsMatch(t, []uint64{1, 2, 3}, read(cs[2], 3), "client 2 gets all three")
	// Room 1's member gets nothing within a few ticks.
	require.NoError(t, cs[3].SetReadDeadline(time.Now().Add(10*serverTick)))
	_, err = cs[3].Read(make([]byte, 2048))
	assert.Error(t, err, "the other room's member gets nothing")
}
