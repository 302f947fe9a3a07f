package endpoint_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/tickwire/tickwire/netcode/endpoint"
)

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		edit func(*endpoint.Config)
		want string // "" for valid
	}{
		{"default", func(*endpoint.Config) {}, ""},
		{"zero means default", func(c *endpoint.Config) { *c = endpoint.Config{} }, ""},
		{"packet too small", func(c *endpoint.Config) { c.MaxPacketSize = 63 },
			"endpoint: Config.MaxPacketSize = 63; allowed 0 (default) or 64..65507"},
		{"packet too large", func(c *endpoint.Config) { c.MaxPacketSize = 70000 }, "Config.MaxPacketSize = 70000"},
		{"message too large", func(c *endpoint.Config) { c.MaxMessageSize = 32 << 20 }, "Config.MaxMessageSize = 33554432"},
		{"message needs too many fragments", func(c *endpoint.Config) {
			c.MaxPacketSize, c.MaxMessageSize, c.MaxReassemblyBytes = 64, 16<<20, 16<<20
		}, "fragments of a 64-byte packet"},
		{"reassembly below message size", func(c *endpoint.Config) { c.MaxReassemblyBytes = 1000 },
			"endpoint: Config.MaxReassemblyBytes = 1000; must be at least MaxMessageSize (262144)"},
		{"negative resend delay", func(c *endpoint.Config) { c.MinResendDelay = -time.Second }, "Config.MinResendDelay = -1s"},
		{"negative timeout", func(c *endpoint.Config) { c.ReassemblyTimeout = -1 }, "Config.ReassemblyTimeout"},
		{"ack delay", func(c *endpoint.Config) { c.AckDelay = 40 * time.Millisecond }, ""},
		{"no ack delay", func(c *endpoint.Config) { c.AckDelay = endpoint.NoAckDelay }, ""},
		{"ack delay too long", func(c *endpoint.Config) { c.AckDelay = 2 * time.Second },
			"endpoint: Config.AckDelay = 2s; allowed 0 (default 25ms), negative (NoAckDelay: ack at every Flush) or up to 1s"},
		{"redundancy off", func(c *endpoint.Config) { c.Channels[0].Redundancy = endpoint.NoRedundancy }, ""},
		{"redundancy too high", func(c *endpoint.Config) { c.Channels[0].Redundancy = 9 },
			"endpoint: Config.Channels[0].Redundancy = 9; allowed 0 (default), -1 (off) or 1..8"},
		{"redundancy negative", func(c *endpoint.Config) { c.Channels[3].Redundancy = -2 }, "Config.Channels[3].Redundancy = -2"},
		{"redundancy size negative", func(c *endpoint.Config) { c.Channels[0].RedundancyMaxSize = -1 },
			"Config.Channels[0].RedundancyMaxSize = -1; must not be negative"},
		{"too many channels", func(c *endpoint.Config) { c.Channels = make([]endpoint.ChannelConfig, 128) }, "len(Config.Channels) = 128"},
		{"bad kind", func(c *endpoint.Config) { c.Channels[1].Kind = 9 }, "Config.Channels[1].Kind = 9"},
		{"queue too long", func(c *endpoint.Config) { c.Channels[0].MaxQueuedMessages = 20000 },
			"Config.Channels[0].MaxQueuedMessages = 20000; allowed 0 (default) to 16384"},
		{"window too long", func(c *endpoint.Config) { c.Channels[3].MaxReceivedMessages = -1 }, "Config.Channels[3].MaxReceivedMessages = -1"},
		{"negative bytes", func(c *endpoint.Config) { c.Channels[2].MaxQueuedBytes = -5 }, "Config.Channels[2].MaxQueuedBytes = -5"},
		{"send budget", func(c *endpoint.Config) { c.SendRate, c.CongestionControl, c.MinSendRate = 125000, true, 8000 }, ""},
		{"send rate too low", func(c *endpoint.Config) { c.SendRate = 100 },
			"endpoint: Config.SendRate = 100; allowed 0 (no budget) or 1024..1073741824 bytes per second"},
		{"congestion control without a rate", func(c *endpoint.Config) { c.CongestionControl = true },
			"endpoint: Config.CongestionControl needs a SendRate"},
		{"floor above ceiling", func(c *endpoint.Config) { c.SendRate, c.MinSendRate = 10000, 20000 },
			"endpoint: Config.MinSendRate = 20000; allowed 0 (default) or 1024 up to SendRate (10000)"},
		{"negative burst", func(c *endpoint.Config) { c.SendBurst = -1 }, "Config.SendBurst = -1"},
		{"negative wait", func(c *endpoint.Config) { c.MaxUnreliableWait = -1 }, "Config.MaxUnreliableWait = -1ns"},
		{"path MTU", func(c *endpoint.Config) { c.MaxPathMTU = 1452 }, ""},
		{"path MTU below packet size", func(c *endpoint.Config) { c.MaxPathMTU = 1000 },
			"endpoint: Config.MaxPathMTU = 1000; allowed 0 (no probing) or MaxPacketSize (1200) to 65507"},
		{"path MTU below the default packet size", func(c *endpoint.Config) { c.MaxPacketSize, c.MaxPathMTU = 0, 1000 }, "MaxPacketSize (1200)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := endpoint.DefaultConfig()
			tt.edit(&cfg)
			err := cfg.Validate()
			_, newErr := endpoint.NewEndpoint(cfg, epoch)
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
	e := newEndpoint(t, endpoint.Config{})
	cfg := e.Config()
	assert.Equal(t, 1200, cfg.MaxPacketSize)
	assert.Equal(t, 256<<10, cfg.MaxMessageSize)
	assert.Len(t, cfg.Channels, 4)
	assert.Equal(t, endpoint.ReliableOrdered, cfg.Channels[0].Kind)
	assert.Equal(t, endpoint.DefaultMaxQueuedMessages, cfg.Channels[0].MaxQueuedMessages)
	assert.Equal(t, endpoint.DefaultAckDelay, cfg.AckDelay)
	assert.Equal(t, endpoint.DefaultRedundancy, cfg.Channels[0].Redundancy)
	assert.Equal(t, endpoint.DefaultRedundancyMaxSize, cfg.Channels[3].RedundancyMaxSize)
	assert.Equal(t, "UnreliableSequenced", cfg.Channels[2].Kind.String())
	assert.Equal(t, "ChannelKind(9)", endpoint.ChannelKind(9).String())
	assert.True(t, endpoint.ReliableUnordered.Reliable())
	assert.False(t, endpoint.UnreliableSequenced.Reliable())
}
