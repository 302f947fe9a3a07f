package buildinfo

import (
	"runtime"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestFormat(t *testing.T) {
	tests := []struct {
		name string
		bi   debug.BuildInfo
		want string
	}{
		{"work tree, no vcs", debug.BuildInfo{GoVersion: "go1.26.0"}, "server (devel) go1.26.0"},
		{"tagged module", debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Version: "v0.3.0"}}, "server v0.3.0 go1.26.0"},
		{"vcs stamped, dirty", debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "7073889aabbccddeeff00112233445566778899a"},
			{Key: "vcs.time", Value: "2026-12-01T04:00:00Z"},
			{Key: "vcs.modified", Value: "true"},
		}}, "server (devel) rev 7073889aabbc+dirty 2026-12-01T04:00:00Z go1.26.0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, Format("server", &tt.bi))
		})
	}
}

func TestVersionOfTestBinary(t *testing.T) {
	v := Version("bots")
	assert.True(t, strings.HasPrefix(v, "bots "), v)
	assert.True(t, strings.HasSuffix(v, runtime.Version()), v)
	assert.NotContains(t, v, "\n")
}
