//go:build linux

package netcode

import (
	"net"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// TestSocketRefusesFragmentation: with path MTU discovery the socket
// refuses IP fragmentation, IPv4 and IPv6.
func TestSocketRefusesFragmentation(t *testing.T) {
	u := listenLoopback(t)
	defer u.Close()
	on, err := dontFragment(u)
	require.NoError(t, err)
	assert.False(t, on, "a new socket fragments (the OS default)")

	s := newSocket(u, true)
	require.NoError(t, s.refuseFragmentation())
	on, err = dontFragment(u)
	require.NoError(t, err)
	assert.True(t, on, "IP_MTU_DISCOVER is IP_PMTUDISC_DO")

	v6, err := net.ListenUDP("udp6", &net.UDPAddr{IP: net.IPv6loopback})
	if err != nil {
		t.Skipf("no IPv6 loopback: %v", err)
	}
	defer v6.Close()
	require.NoError(t, setDontFragment(v6))
	rc, err := v6.SyscallConn()
	require.NoError(t, err)
	var got int
	require.NoError(t, rc.Control(func(fd uintptr) {
		got, err = unix.GetsockoptInt(int(fd), unix.IPPROTO_IPV6, unix.IPV6_DONTFRAG)
	}))
	require.NoError(t, err)
	assert.Equal(t, 1, got, "IPV6_DONTFRAG")
}
