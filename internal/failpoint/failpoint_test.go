package failpoint

import (
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
)

func TestDisabledReturnsNil(t *testing.T) {
	if err := Eval("nothingArmed"); err != nil {
		t.Fatalf("Eval of an unarmed point = %v, want nil", err)
	}
}

func TestErrorActionFiresFromNthHit(t *testing.T) {
	if err := Enable("fpErr", "error@3"); err != nil {
		t.Fatal(err)
	}
	defer Disable("fpErr")
	for i := 1; i <= 5; i++ {
		err := Eval("fpErr")
		if want := i >= 3; (err != nil) != want || (err != nil && !errors.Is(err, ErrInjected)) {
			t.Fatalf("hit %d: Eval = %v, want error %v", i, err, want)
		}
	}
	if err := Eval("otherPoint"); err != nil {
		t.Fatalf("unarmed point fired while another is armed: %v", err)
	}
}

func TestEnableFuncAndDisable(t *testing.T) {
	calls := 0
	want := errors.New("boom")
	disable := EnableFunc("fpFunc", func() error { calls++; return want })
	if err := Eval("fpFunc"); !errors.Is(err, want) || calls != 1 {
		t.Fatalf("Eval = %v after %d calls, want boom after 1", err, calls)
	}
	if !Enabled("fpFunc") {
		t.Fatal("Enabled = false for an armed point")
	}
	disable()
	if err := Eval("fpFunc"); err != nil || calls != 1 {
		t.Fatalf("disabled point ran: err=%v calls=%d", err, calls)
	}
	if active.Load() != 0 {
		t.Fatalf("active = %d after disabling everything", active.Load())
	}
}

func TestOffDisables(t *testing.T) {
	if err := Enable("fpOff", "error"); err != nil {
		t.Fatal(err)
	}
	if err := Enable("fpOff", "off"); err != nil {
		t.Fatal(err)
	}
	if Enabled("fpOff") || Eval("fpOff") != nil {
		t.Fatal(`"off" did not disable the point`)
	}
}

func TestBadSpecs(t *testing.T) {
	for _, spec := range []string{"", "explode", "error@0", "error@x", "exit(a)", "sleep(forever)", "sleep(5ms"} {
		if err := Enable("fpBad", spec); !errors.Is(err, ErrBadSpec) {
			t.Errorf("Enable(%q) = %v, want ErrBadSpec", spec, err)
		}
	}
	for _, list := range []string{"noequals", "=error", "a=error;b=bogus"} {
		if err := EnableFromEnv(list); !errors.Is(err, ErrBadSpec) {
			t.Errorf("EnableFromEnv(%q) = %v, want ErrBadSpec", list, err)
		}
	}
	Disable("a")
	if active.Load() != 0 {
		t.Fatalf("bad specs left %d points armed", active.Load())
	}
}

func TestEnvList(t *testing.T) {
	if err := EnableFromEnv(" fpA=error ; fpB=sleep(1ms)@2 ;"); err != nil {
		t.Fatal(err)
	}
	defer Disable("fpA")
	defer Disable("fpB")
	if !errors.Is(Eval("fpA"), ErrInjected) {
		t.Fatal("fpA from the env list did not fire")
	}
	if Eval("fpB") != nil || Eval("fpB") != nil {
		t.Fatal("sleep action returned an error")
	}
}

// TestKillFromEnv re-executes the test binary with the failpoint armed through
// the environment and checks the child dies by SIGKILL at the point.
func TestKillFromEnv(t *testing.T) {
	if os.Getenv("FAILPOINT_CHILD") == "1" {
		_ = Eval("fpKill")
		os.Stdout.WriteString("survived\n")
		os.Exit(0)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestKillFromEnv$")
	cmd.Env = append(os.Environ(), "FAILPOINT_CHILD=1", EnvVar+"=fpKill=kill")
	out, err := cmd.Output()
	var exitErr *exec.ExitError
	if !errors.As(err, &exitErr) || strings.Contains(string(out), "survived") {
		t.Fatalf("child was not killed: err=%v output=%q", err, out)
	}
	if exitErr.ExitCode() != -1 { // -1: terminated by a signal
		t.Fatalf("child exit code %d, want death by signal", exitErr.ExitCode())
	}
}

func TestBadEnvExits(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestDisabledReturnsNil$")
	cmd.Env = append(os.Environ(), EnvVar+"=x=bogus")
	out, err := cmd.CombinedOutput()
	var exitErr *exec.ExitError
	if !errors.As(err, &exitErr) || exitErr.ExitCode() != 2 || !strings.Contains(string(out), "unknown action") {
		t.Fatalf("bad env: err=%v output=%q, want exit 2 naming the problem", err, out)
	}
}

func BenchmarkEvalDisabled(b *testing.B) {
	for b.Loop() {
		if Eval("osdBeforeCommit") != nil {
			b.Fatal("fired")
		}
	}
}
