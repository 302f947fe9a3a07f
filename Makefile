# Tickwire — common tasks. `make help` lists them.
GO       ?= go
FUZZTIME ?= 10s
BENCHTIME ?= 1s
BIN      := bin

.PHONY: help deps test vet fmt bench fuzz build proxy clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

deps: ## install the Debian/Ubuntu packages the ebiten build and client tests need
	@bash scripts/install-deps.sh

test: deps ## vet + gofmt check + every test with -race (the CI command)
	@bash scripts/test.sh

vet: ## go vet only
	$(GO) vet ./...

fmt: ## format the tree
	gofmt -w .

bench: ## run every benchmark once with allocation counts
	$(GO) test -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) ./...

fuzz: ## run every fuzz target for FUZZTIME (default 10s) each
	@FUZZTIME=$(FUZZTIME) bash scripts/fuzz.sh

build: ## build the commands into ./bin
	@mkdir -p $(BIN)
	$(GO) build -o $(BIN)/ ./netcode/netsim/cmd/...

proxy: ## run the netsim UDP proxy: make proxy ARGS="-listen 127.0.0.1:7001 -target 127.0.0.1:7000 -loss 10%"
	$(GO) run ./netcode/netsim/cmd/netsim $(ARGS)

clean: ## remove build outputs and test artifacts
	rm -rf $(BIN) artifacts
