// Package failpoint marks the durability boundaries of gorados daemons with
// named points where tests can crash, stall or fail a process, in the manner
// of etcd's gofail failpoints (raftBeforeSave, raftAfterSave, ...).
//
// Production code calls Eval(name) at each point. While no failpoint is
// enabled, Eval is one atomic load and a branch, so the points cost nothing
// measurable (see BenchmarkEvalDisabled). Failpoints are enabled either in
// process, by a test calling Enable or EnableFunc, or from outside, through
// the GORADOS_FAILPOINTS environment variable read at program start, which
// is how end-to-end tests arm a daemon they start as a separate process:
//
//	GORADOS_FAILPOINTS='osdBeforeCommit=kill@20;osdAfterCommitBeforeAck=sleep(50ms)'
//
// A spec is an action optionally followed by "@N": the action fires from the
// N-th evaluation of the point on (1-based; default 1), earlier evaluations
// do nothing. Actions:
//
//	off            do nothing (disables the point)
//	error          Eval returns ErrInjected; the caller fails its operation
//	panic          panic with the point's name
//	kill           SIGKILL the process (a crash: no deferred code, no flush)
//	exit(CODE)     os.Exit(CODE)
//	sleep(DUR)     sleep for a time.ParseDuration duration, then continue
//
// The package does not know the names of the points; each daemon documents
// the points it evaluates (the OSD store evaluates osdBeforeCommit and
// osdAfterCommitBeforeAck).
package failpoint

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// EnvVar names the environment variable holding "name=spec;name=spec"
// failpoints to enable at program start.
const EnvVar = "GORADOS_FAILPOINTS"

// Errors returned by this package.
var (
	// ErrInjected is returned by Eval when a point with the "error" action
	// fires.
	ErrInjected = errors.New("failpoint: injected error")
	// ErrBadSpec means a failpoint specification could not be parsed.
	ErrBadSpec = errors.New("failpoint: bad specification")
)

// point is one enabled failpoint.
type point struct {
	fn    func() error // action
	after uint64       // fire from this evaluation on (1-based)
	hits  atomic.Uint64
}

var (
	// active counts enabled points; Eval's fast path reads only this.
	active atomic.Int32
	mu     sync.RWMutex
	points = map[string]*point{}
)

func init() {
	if err := EnableFromEnv(os.Getenv(EnvVar)); err != nil {
		// A misconfigured failpoint would make a crash test pass without
		// crashing anything, so refuse to run rather than ignore it.
		fmt.Fprintf(os.Stderr, "%s: %v; fix or unset the variable\n", EnvVar, err)
		os.Exit(2)
	}
}

// Eval runs the action of the named failpoint if it is enabled and due, and
// returns the error the caller must treat as its own failure (only the
// "error" action and EnableFunc callbacks return one). It returns nil at the
// cost of one atomic load when no failpoint is enabled.
func Eval(name string) error {
	if active.Load() == 0 {
		return nil
	}
	return evalSlow(name)
}

func evalSlow(name string) error {
	mu.RLock()
	p := points[name]
	mu.RUnlock()
	if p == nil {
		return nil
	}
	if p.hits.Add(1) < p.after {
		return nil
	}
	return p.fn()
}

// Enable arms the named failpoint with spec (see the package doc), replacing
// any previous setting; "off" disables it.
func Enable(name, spec string) error {
	fn, after, err := parseSpec(spec)
	if err != nil {
		return fmt.Errorf("failpoint %q: %w", name, err)
	}
	if fn == nil {
		Disable(name)
		return nil
	}
	set(name, &point{fn: fn, after: after})
	return nil
}

// EnableFunc arms the named failpoint with a callback run at every
// evaluation; its error is returned by Eval. Tests use it to block a
// daemon at a boundary until they release it. It returns a function that
// disables the point.
func EnableFunc(name string, fn func() error) (disable func()) {
	set(name, &point{fn: fn, after: 1})
	return func() { Disable(name) }
}

// Disable disarms the named failpoint; disabling an unarmed one is a no-op.
func Disable(name string) {
	mu.Lock()
	defer mu.Unlock()
	if _, ok := points[name]; ok {
		delete(points, name)
		active.Add(-1)
	}
}

// Enabled reports whether the named failpoint is armed.
func Enabled(name string) bool {
	mu.RLock()
	defer mu.RUnlock()
	return points[name] != nil
}

// EnableFromEnv arms the failpoints of a "name=spec;name=spec" list (the
// format of EnvVar). An empty list arms nothing.
func EnableFromEnv(list string) error {
	for _, item := range strings.Split(list, ";") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		name, spec, ok := strings.Cut(item, "=")
		if !ok || name == "" {
			return fmt.Errorf("%w: %q is not name=spec", ErrBadSpec, item)
		}
		if err := Enable(strings.TrimSpace(name), strings.TrimSpace(spec)); err != nil {
			return err
		}
	}
	return nil
}

func set(name string, p *point) {
	mu.Lock()
	defer mu.Unlock()
	if _, ok := points[name]; !ok {
		active.Add(1)
	}
	points[name] = p
}

// parseSpec parses "action[@N]"; a nil action means "off".
func parseSpec(spec string) (func() error, uint64, error) {
	action, afterText, hasAfter := strings.Cut(spec, "@")
	after := uint64(1)
	if hasAfter {
		n, err := strconv.ParseUint(afterText, 10, 64)
		if err != nil || n == 0 {
			return nil, 0, fmt.Errorf("%w: %q: the count after @ must be a positive integer", ErrBadSpec, spec)
		}
		after = n
	}
	fn, err := parseAction(action)
	return fn, after, err
}

func parseAction(action string) (func() error, error) {
	switch {
	case action == "off":
		return nil, nil
	case action == "error":
		return func() error { return ErrInjected }, nil
	case action == "panic":
		return func() error { panic("failpoint: injected panic") }, nil
	case action == "kill":
		return func() error { killSelf(); return nil }, nil
	case strings.HasPrefix(action, "exit(") && strings.HasSuffix(action, ")"):
		code, err := strconv.Atoi(action[len("exit(") : len(action)-1])
		if err != nil {
			return nil, fmt.Errorf("%w: %q: exit needs an integer code", ErrBadSpec, action)
		}
		return func() error { os.Exit(code); return nil }, nil
	case strings.HasPrefix(action, "sleep(") && strings.HasSuffix(action, ")"):
		d, err := time.ParseDuration(action[len("sleep(") : len(action)-1])
		if err != nil {
			return nil, fmt.Errorf("%w: %q: sleep needs a duration such as 50ms", ErrBadSpec, action)
		}
		return func() error { time.Sleep(d); return nil }, nil
	}
	return nil, fmt.Errorf("%w: unknown action %q (want off, error, panic, kill, exit(N) or sleep(D))", ErrBadSpec, action)
}

// killSelf ends the process the way a power cut or kill -9 would: no
// deferred functions, no buffered output flushed.
func killSelf() {
	if p, err := os.FindProcess(os.Getpid()); err == nil {
		_ = p.Kill()
	}
	// Kill of oneself does not return on Unix; if the platform refused,
	// exiting without cleanup is the closest substitute.
	os.Exit(137)
}
