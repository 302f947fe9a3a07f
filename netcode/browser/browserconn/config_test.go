package browserconn

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseCertHash(t *testing.T) {
	want := bytes.Repeat([]byte{0xab}, 32)
	plain := strings.Repeat("ab", 32)
	for _, tc := range []struct {
		in      string
		wantErr string
	}{
		{in: plain},
		{in: strings.ToUpper(plain)},
		{in: " " + plain + "\n"},
		{in: strings.TrimSuffix(strings.Repeat("AB:", 32), ":")},
		{in: "", wantErr: "has 0 characters without colons, want 64 hex digits"},
		{in: plain[:62], wantErr: "has 62 characters"},
		{in: plain + "ab", wantErr: "has 66 characters"},
		{in: strings.Repeat("zz", 32), wantErr: "is not hex"},
	} {
		got, err := ParseCertHash(tc.in)
		if tc.wantErr != "" {
			assert.ErrorContains(t, err, tc.wantErr, "ParseCertHash(%q)", tc.in)
			assert.Nil(t, got)
			continue
		}
		require.NoError(t, err, "ParseCertHash(%q)", tc.in)
		assert.Equal(t, want, got, "ParseCertHash(%q)", tc.in)
	}
}

func TestDialOutsideBrowser(t *testing.T) {
	pc, tr, err := Dial(context.Background(), Config{WebTransportURL: "https://127.0.0.1:4433/tickwire", WebRTCURL: "/webrtc"})
	assert.ErrorIs(t, err, ErrUnsupported)
	assert.Nil(t, pc)
	assert.Empty(t, tr)
}

func FuzzParseCertHash(f *testing.F) {
	f.Add(strings.Repeat("0f", 32))
	f.Add(strings.TrimSuffix(strings.Repeat("0F:", 32), ":"))
	f.Add("")
	f.Add("::::")
	f.Fuzz(func(t *testing.T, s string) {
		b, err := ParseCertHash(s)
		if err != nil {
			if b != nil {
				t.Fatalf("ParseCertHash(%q) = %x with error %v", s, b, err)
			}
			if !strings.HasPrefix(err.Error(), "browserconn: ") || len(err.Error()) > 400 {
				t.Fatalf("error %q: want the package prefix and a bounded length", err)
			}
			return
		}
		if len(b) != 32 {
			t.Fatalf("ParseCertHash(%q) = %d bytes, want 32", s, len(b))
		}
		if !strings.EqualFold(hex.EncodeToString(b), strings.ReplaceAll(strings.TrimSpace(s), ":", "")) {
			t.Fatalf("ParseCertHash(%q) = %x, not the same digits", s, b)
		}
	})
}

func ExampleParseCertHash() {
	hash, err := ParseCertHash("9c:89:b9:05:0f:16:39:5c:fe:3e:c7:54:21:04:42:27:83:a7:55:f8:3a:05:7a:40:81:0a:d7:db:b5:4b:bf:16")
	fmt.Println(len(hash), err)
	_, err = ParseCertHash("9c89")
	fmt.Println(err)
	// Output:
	// 32 <nil>
	// browserconn: certificate hash "9c89" has 4 characters without colons, want 64 hex digits (SHA-256)
}
