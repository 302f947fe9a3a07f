package netcode_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/tickwire/tickwire/netcode"
)

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		edit func(*netcode.Config)
		want string // "" for valid
	}{
		{"default", func(*netcode.Config) {}, ""},
		{"zero means default", func(c *netcode.Config) { *c = netcode.Config{} }, ""},
		{"packet too small", func(c *netcode.Config) { c.MaxPacketSize = 63 },
			"netcode: Config.MaxPacketSize = 63; allowed 0 (default) or 64..65507"},
		{"packet too large", func(c *netcode.Config) { c.MaxPacketSize = 70000 }, "Config.MaxPacketSize = 70000"},
		{"message too large", func(c *netcode.Config) { c.MaxMessageSize = 32 << 20 }, "Config.MaxMessageSize = 33554432"},
		{"message needs too many fragments", func(c *netcode.Config) {
			c.MaxPacketSize, c.MaxMessageSize, c.MaxReassemblyBytes = 64, 16<<20, 16<<20
		}, "fragments of a 64-byte packet"},
		{"reassembly below message size", func(c *netcode.Config) { c.MaxReassemblyBytes = 1000 },
			"netcode: Config.MaxReassemblyBytes = 1000; must be at least MaxMessageSize (262144)"},
		{"negative resend delay", func(c *netcode.Config) { c.MinResendDelay = -time.Second }, "Config.MinResendDelay = -1s"},
		{"negative timeout", func(c *netcode.Config) { c.ReassemblyTimeout = -1 }, "Config.ReassemblyTimeout"},
		{"ack delay", func(c *netcode.Config) { c.AckDelay = 40 * time.Millisecond }, ""},
		{"negative ack delay", func(c *netcode.Config) { c.AckDelay = -time.Millisecond }, "Config.AckDelay = -1ms"},
		{"ack delay too long", func(c *netcode.Config) { c.AckDelay = 2 * time.Second }, "Config.AckDelay = 2s; allowed 0 (ack at every Flush) to 1s"},
		{"too many channels", func(c *netcode.Config) { c.Channels = make([]netcode.ChannelConfig, 128) }, "len(Config.Channels) = 128"},
		{"bad kind", func(c *netcode.Config) { c.Channels[1].Kind = 9 }, "Config.Channels[1].Kind = 9"},
		{"queue too long", func(c *netcode.Config) { c.Channels[0].MaxQueuedMessages = 20000 },
			"Config.Channels[0].MaxQueuedMessages = 20000; allowed 0 (default) to 16384"},
		{"window too long", func(c *netcode.Config) { c.Channels[3].MaxReceivedMessages = -1 }, "Config.Channels[3].MaxReceivedMessages = -1"},
		{"negative bytes", func(c *netcode.Config) { c.Channels[2].MaxQueuedBytes = -5 }, "Config.Channels[2].MaxQueuedBytes = -5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := netcode.DefaultConfig()
			tt.edit(&cfg)
			err := cfg.Validate()
			_, newErr := netcode.NewEndpoint(cfg, epoch)
			if tt.want == "" {
				assert.NoError(t, err)
				assert.NoError(t, newErr)
				return
			}
			assert.ErrorContains(t, err, tt.want)
			assert.Equal(t, err, newErr, "NewEndpoint refuses what Validate refuses")
		})
	}
}

func TestEndpointConfigDefaults(t *testing.T) {
	e := newEndpoint(t, netcode.Config{})
	cfg := e.Config()
	assert.Equal(t, 1200, cfg.MaxPacketSize)
	assert.Equal(t, 256<<10, cfg.MaxMessageSize)
	assert.Len(t, cfg.Channels, 4)
	assert.Equal(t, netcode.ReliableOrdered, cfg.Channels[0].Kind)
	assert.Equal(t, netcode.DefaultMaxQueuedMessages, cfg.Channels[0].MaxQueuedMessages)
	assert.Equal(t, "UnreliableSequenced", cfg.Channels[2].Kind.String())
	assert.Equal(t, "ChannelKind(9)", netcode.ChannelKind(9).String())
	assert.True(t, netcode.ReliableUnordered.Reliable())
	assert.False(t, netcode.UnreliableSequenced.Reliable())
}
