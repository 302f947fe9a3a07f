# Tickwire — common tasks. `make help` lists them.
GO       ?= go
FUZZTIME ?= 10s
BENCHTIME ?= 1s
BIN      := bin

.PHONY: help deps demo test vet fmt bench fuzz build proxy server bots soak loadtest clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

deps: ## install the Debian/Ubuntu packages the ebiten build and client tests need
	@bash scripts/install-deps.sh

demo: ## start a server, bots and a client window (headless server + bots without a display)
	@bash scripts/demo.sh

test: deps ## vet + gofmt check + every test with -race (the CI command)
	@bash scripts/test.sh

vet: ## go vet only
	$(GO) vet ./...

fmt: ## format the tree
	gofmt -w .

bench: ## run every benchmark once with allocation counts (the ebiten client's need a display: skipped)
	$(GO) test -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) $$($(GO) list ./... | grep -v /demo-game/client/window)

fuzz: ## run every fuzz target for FUZZTIME (default 10s) each
	@FUZZTIME=$(FUZZTIME) bash scripts/fuzz.sh

build: ## build the commands into ./bin
	@mkdir -p $(BIN)
	$(GO) build -o $(BIN)/ ./netcode/netsim/cmd/... ./server/cmd/...
	$(GO) build -o $(BIN)/demo-server ./demo-game/server
	$(GO) build -o $(BIN)/demo-bots ./demo-game/bots
	$(GO) build -o $(BIN)/demo-client ./demo-game/client
	$(GO) build -o $(BIN)/demo-client-window ./demo-game/client/window

proxy: ## run the netsim UDP proxy: make proxy ARGS="-listen 127.0.0.1:7001 -target 127.0.0.1:7000 -loss 10%"
	$(GO) run ./netcode/netsim/cmd/netsim $(ARGS)

server: ## run the demo server alone: make server ARGS="-addr 127.0.0.1:7777 -loss 5%"
	$(GO) run ./demo-game/server $(ARGS)

bots: ## run a bot swarm against a server: make bots ARGS="-addr 127.0.0.1:7777 -n 20"
	$(GO) run ./demo-game/bots $(ARGS)

soak: ## 200 bots for 10 minutes on loopback; checks heap, goroutines, losses, overruns
	@bash scripts/soak.sh

loadtest: ## server capacity: N headless clients in another process, tick p50/p99 and overruns
	$(GO) run ./server/cmd/loadtest $(ARGS)

.PHONY: bench-peers
bench-peers: ## Tickwire against UDP and kcp-go on loopback and through a lossy proxy (module bench/, a few minutes): prints the table, writes bench/results/
	cd bench && $(GO) run . -out results

clean: ## remove build outputs and test artifacts
	rm -rf $(BIN) artifacts

.PHONY: web
web: ## build the demo client to WebAssembly (bin/web) and serve it with the demo server: prints the URL to open in a browser (ARGS: flags of demo-game/web)
	@bash scripts/web.sh $(ARGS)
