// Package deploy holds the deployment files of the demo server (a
// Dockerfile, Agones manifests); this test checks that they parse and
// agree with the server's flags and admin routes. Nothing here is built
// into a program.
package deploy

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

// load parses a one-document YAML file into a generic map.
func load(t *testing.T, path string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	var doc map[string]any
	require.NoError(t, yaml.Unmarshal(b, &doc), path)
	return doc
}

// at walks m along keys (string keys for maps, int for lists).
func at(t *testing.T, m any, keys ...any) any {
	t.Helper()
	for _, k := range keys {
		switch k := k.(type) {
		case string:
			mm, ok := m.(map[string]any)
			require.True(t, ok, "%v is not a map at %q", m, k)
			m, ok = mm[k]
			require.True(t, ok, "no key %q", k)
		case int:
			l, ok := m.([]any)
			require.True(t, ok, "%v is not a list", m)
			require.Less(t, k, len(l))
			m = l[k]
		}
	}
	return m
}

// TestEveryManifestParses: each YAML file is one document with an
// apiVersion, a kind and a name.
func TestEveryManifestParses(t *testing.T) {
	files, err := filepath.Glob("agones/*.yaml")
	require.NoError(t, err)
	require.Len(t, files, 2)
	for _, f := range files {
		doc := load(t, f)
		assert.NotEmpty(t, at(t, doc, "apiVersion"), f)
		assert.NotEmpty(t, at(t, doc, "kind"), f)
		assert.NotEmpty(t, at(t, doc, "metadata", "name"), f)
	}
}

// TestFleetMatchesTheServer: the UDP port is the one the server listens
// on, the probes are the admin routes on the admin port, the grace period
// outlasts the drain, the health pings come within Agones' period, and
// the autoscaler names the fleet.
func TestFleetMatchesTheServer(t *testing.T) {
	fleet := load(t, "agones/fleet.yaml")
	assert.Equal(t, "Fleet", at(t, fleet, "kind"))
	gs := at(t, fleet, "spec", "template", "spec")
	assert.Equal(t, "UDP", at(t, gs, "ports", 0, "protocol"))
	port := at(t, gs, "ports", 0, "containerPort").(int)

	pod := at(t, gs, "template", "spec")
	c := at(t, pod, "containers", 0)
	args := map[string]string{}
	for _, a := range at(t, c, "args").([]any) {
		k, v, _ := strings.Cut(strings.TrimPrefix(a.(string), "-"), "=")
		args[k] = v
	}
	assert.Equal(t, "0.0.0.0:"+strconv.Itoa(port), args["addr"], "the server listens on the GameServer's container port")
	_, has := args["agones"]
	assert.True(t, has, "-agones")
	adminPort := at(t, c, "ports", 0, "containerPort").(int)
	assert.Equal(t, "0.0.0.0:"+strconv.Itoa(adminPort), args["admin"])
	assert.Equal(t, "/healthz", at(t, c, "livenessProbe", "httpGet", "path"))
	assert.Equal(t, "/readyz", at(t, c, "readinessProbe", "httpGet", "path"))
	assert.Equal(t, at(t, c, "ports", 0, "name"), at(t, c, "livenessProbe", "httpGet", "port"))

	drain, err := time.ParseDuration(args["drain-timeout"])
	require.NoError(t, err)
	grace := time.Duration(at(t, pod, "terminationGracePeriodSeconds").(int)) * time.Second
	assert.Greater(t, grace, drain+5*time.Second, "SIGKILL must not cut the drain")
	ping, err := time.ParseDuration(args["agones-health"])
	require.NoError(t, err)
	period := time.Duration(at(t, gs, "health", "periodSeconds").(int)) * time.Second
	assert.Less(t, ping, period, "at least one ping per Agones health period")
	assert.Equal(t, 9358, at(t, gs, "sdkServer", "httpPort"), "the REST gateway's port")
	assert.Equal(t, 65532, at(t, pod, "securityContext", "runAsUser"), "the image's non-root user")
	for _, k := range []string{"cpu", "memory"} {
		assert.NotEmpty(t, at(t, c, "resources", "requests", k))
		assert.NotEmpty(t, at(t, c, "resources", "limits", k))
	}

	as := load(t, "agones/autoscaler.yaml")
	assert.Equal(t, "FleetAutoscaler", at(t, as, "kind"))
	assert.Equal(t, at(t, fleet, "metadata", "name"), at(t, as, "spec", "fleetName"))
	buf := at(t, as, "spec", "policy", "buffer")
	assert.Less(t, at(t, buf, "minReplicas").(int), at(t, buf, "maxReplicas").(int))
}

// TestDockerfile: a static build of the demo server on a non-root
// distroless image, listening where the fleet expects.
func TestDockerfile(t *testing.T) {
	b, err := os.ReadFile("Dockerfile")
	require.NoError(t, err)
	df := string(b)
	assert.Contains(t, df, "CGO_ENABLED=0")
	assert.Regexp(t, `(?m)^FROM gcr\.io/distroless/static\S*:nonroot$`, df)
	assert.Regexp(t, `(?m)^USER 65532:65532$`, df)
	m := regexp.MustCompile(`go build .* (\./\S+)\n`).FindStringSubmatch(df)
	require.NotNil(t, m, "a go build line")
	_, err = os.Stat(filepath.Join("..", m[1], "main.go"))
	assert.NoError(t, err, "the built package exists")
	assert.Contains(t, df, `"-addr", "0.0.0.0:7777"`)
	assert.Contains(t, df, "EXPOSE 7777/udp 9100/tcp")
}
