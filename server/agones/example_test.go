package agones_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

	"github.com/tickwire/tickwire/server/agones"
)

// A game server's life under Agones: Ready once it listens, labels as its
// player count changes, Shutdown once it has drained. (KeepHealthy and
// Watch run in goroutines meanwhile.) Here a fake sidecar prints what it
// receives; in a pod, agones.URL(os.Getenv) is the real one's address.
func Example() {
	sidecar := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		fmt.Println(r.Method, r.URL.Path, string(body))
		_, _ = io.WriteString(w, "{}")
	}))
	defer sidecar.Close()

	sdk, err := agones.New(agones.Config{URL: sidecar.URL})
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	_ = sdk.Ready(ctx) // errors are logged and retried inside; the game goes on either way
	_ = sdk.SetLabel(ctx, "players", "12")
	_ = sdk.Shutdown(ctx)
	// Output:
	// POST /ready {}
	// PUT /metadata/label {"key":"players","value":"12"}
	// POST /shutdown {}
}
