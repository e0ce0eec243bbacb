// Package fakepool opens a pool of an in-process fake cluster through the
// real client library, for the tests of the packages built on the library
// (bench, radostool). The client's own tests cannot use it: it imports
// the client.
package fakepool

import (
	"context"
	"testing"
	"time"

	"github.com/gorados/gorados/client"
	"github.com/gorados/gorados/client/internal/fake"
)

// Open starts a fake cluster of 4 OSDs, connects to it and opens its pool;
// the context ends after timeout, and everything is closed when the test
// ends.
func Open(t *testing.T, timeout time.Duration) (context.Context, *client.IOContext) {
	t.Helper()
	fc := fake.New(t, 4)
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	t.Cleanup(cancel)
	c, err := client.Connect(ctx, client.Config{Monitors: []string{fc.MonAddr()}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	io, err := c.OpenPool(ctx, fake.Pool)
	if err != nil {
		t.Fatal(err)
	}
	return ctx, io
}
