// Command radosctl is the gorados admin and data tool, in the spirit of Ceph's
// `ceph`, `rados`, `crushtool` and `osdmaptool` commands. This file wires the
// command tree; each command group lives in its own file and calls into the
// library packages, which hold the logic.
package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

// exitError carries a process exit status through cobra without printing a
// usage block for errors that are not usage errors.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func newRootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:           "radosctl",
		Short:         "Administer and use a gorados cluster",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	for _, add := range commandGroups {
		add(root)
	}
	return root
}

// commandGroups is filled by the init functions of the command files, so that
// each group of commands stays in its own file.
var commandGroups []func(root *cobra.Command)

// subcommand returns the child of parent named name, creating an empty group
// command when it does not exist yet. Command files use it to share groups
// such as "osd" or "crush".
func subcommand(parent *cobra.Command, name, short string) *cobra.Command {
	for _, c := range parent.Commands() {
		if c.Name() == name {
			return c
		}
	}
	c := &cobra.Command{Use: name, Short: short}
	parent.AddCommand(c)
	return c
}

func main() {
	if err := newRootCommand().Execute(); err != nil {
		fmt.Fprintf(os.Stderr, "radosctl: %v\n", err)
		var ee *exitError
		if errors.As(err, &ee) {
			os.Exit(ee.code)
		}
		os.Exit(1)
	}
}
