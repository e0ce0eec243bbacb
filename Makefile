# gorados build targets. Everything also works with plain `go` commands; see README.md.
GO      ?= go
BIN     ?= bin
PROTOC  ?= protoc

.PHONY: all build test race bench proto fmt vet ci clean

all: build

build:
	$(GO) build -o $(BIN)/ ./cmd/...

test:
	$(GO) test ./...

race:
	$(GO) test -race -short ./...

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

# Regenerates the committed protobuf code. Needs protoc (Debian: protobuf-compiler)
# and the Go plugins:
#   go install google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12
#   go install google.golang.org/grpc/cmd/protoc-gen-go-grpc@v1.6.2
proto:
	$(PROTOC) -I proto --go_out=proto/pb --go_opt=paths=source_relative \
		--go-grpc_out=proto/pb --go-grpc_opt=paths=source_relative proto/*.proto

fmt:
	gofmt -w $$(git ls-files '*.go')

vet:
	$(GO) vet ./...

ci:
	./.ci/run

clean:
	rm -rf $(BIN)
