package main

// Data commands, as Ceph's `rados` has them: radosctl -p POOL put NAME
// FILE|-, get, rm, stat, ls, create, append, truncate, xattrs and omap.
// The logic lives in client/radostool; this file wires flags.

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/gorados/gorados/client"
	"github.com/gorados/gorados/client/radostool"
)

var dataFlags struct {
	pool      string
	namespace string
	locator   string
}

func init() {
	commandGroups = append(commandGroups, addDataCommands)
}

func addDataCommands(root *cobra.Command) {
	root.PersistentFlags().StringVarP(&dataFlags.pool, "pool", "p", "", "pool of the data commands (put, get, ls, bench, ...)")
	for _, c := range []*cobra.Command{
		putCmd(), getCmd(), rmCmd(), statCmd(), lsCmd(), createCmd(), appendCmd(), truncateCmd(),
		setxattrCmd(), getxattrCmd(), rmxattrCmd(), listxattrCmd(),
		setomapvalCmd(), getomapvalCmd(), rmomapkeyCmd(), listomapkeysCmd(), listomapvalsCmd(), clearomapCmd(),
	} {
		c.Flags().StringVarP(&dataFlags.namespace, "namespace", "N", "", "object namespace")
		c.Flags().StringVar(&dataFlags.locator, "object-locator", "", "place objects by this locator key instead of their name")
		root.AddCommand(c)
	}
}

// withPool connects to the cluster, opens --pool with --namespace and
// --object-locator, and runs fn. Each operation is bounded by --timeout.
func withPool(cmd *cobra.Command, fn func(ctx context.Context, io *client.IOContext) error) error {
	if dataFlags.pool == "" {
		return fmt.Errorf("no pool given: pass -p POOL (list pools with `radosctl osd pool ls`)")
	}
	addrs, err := monAddrs()
	if err != nil {
		return err
	}
	ctx := cmd.Context()
	cctx, cancel := context.WithTimeout(ctx, monFlags.timeout)
	defer cancel()
	conn, err := client.Connect(cctx, client.Config{Monitors: addrs, OpTimeout: monFlags.timeout})
	if err != nil {
		return err
	}
	defer conn.Close()
	io, err := conn.OpenPool(cctx, dataFlags.pool)
	if err != nil {
		return err
	}
	io.SetNamespace(dataFlags.namespace)
	io.SetLocatorKey(dataFlags.locator)
	return fn(ctx, io)
}

// dataCmd builds a data command of exactly n arguments (or n to max).
func dataCmd(use, short string, n, max int, run func(cmd *cobra.Command, ctx context.Context, io *client.IOContext, args []string) error) *cobra.Command {
	return &cobra.Command{Use: use, Short: short, Args: cobra.RangeArgs(n, max),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withPool(cmd, func(ctx context.Context, io *client.IOContext) error { return run(cmd, ctx, io, args) })
		}}
}

// openInput opens FILE, or standard input for "-".
func openInput(cmd *cobra.Command, path string) (io.ReadCloser, error) {
	if path == "-" {
		return io.NopCloser(cmd.InOrStdin()), nil
	}
	return os.Open(path)
}

func putCmd() *cobra.Command {
	return dataCmd("put NAME FILE|-", "Store a file (or standard input) as an object, replacing its data", 2, 2,
		func(cmd *cobra.Command, ctx context.Context, io *client.IOContext, args []string) error {
			in, err := openInput(cmd, args[1])
			if err != nil {
				return err
			}
			defer in.Close()
			_, err = radostool.Put(ctx, io, args[0], in)
			return err
		})
}

func getCmd() *cobra.Command {
	return dataCmd("get NAME FILE|-", "Copy an object to a file (or standard output)", 2, 2,
		func(cmd *cobra.Command, ctx context.Context, io *client.IOContext, args []string) error {
			if args[1] == "-" {
				_, err := radostool.Get(ctx, io, args[0], cmd.OutOrStdout())
				return err
			}
			f, err := os.Create(args[1])
			if err != nil {
				return err
			}
			if _, err := radostool.Get(ctx, io, args[0], f); err != nil {
				f.Close()
				os.Remove(args[1])
				return err
			}
			return f.Close()
		})
}

func rmCmd() *cobra.Command {
	return dataCmd("rm NAME...", "Remove objects", 1, 1<<20,
		func(cmd *cobra.Command, ctx context.Context, io *client.IOContext, args []string) error {
			for _, name := range args {
				if err := io.Remove(ctx, name); err != nil {
					return err
				}
			}
			return nil
		})
}

func statCmd() *cobra.Command {
	return dataCmd("stat NAME", "Show an object's size and modification time", 1, 1,
		func(cmd *cobra.Command, ctx context.Context, io *client.IOContext, args []string) error {
			st, err := io.Stat(ctx, args[0])
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), radostool.FormatStat(io.PoolName(), args[0], st))
			return nil
		})
}

func lsCmd() *cobra.Command {
	var all bool
	c := dataCmd("ls", "List the objects of the pool (one namespace, or every one with --all)", 0, 0,
		func(cmd *cobra.Command, ctx context.Context, io *client.IOContext, args []string) error {
			if all {
				io.SetNamespace(client.AllNamespaces)
			}
			_, err := radostool.Ls(ctx, io, cmd.OutOrStdout())
			return err
		})
	c.Flags().BoolVar(&all, "all", false, "list every namespace (prints NAMESPACE<TAB>NAME)")
	return c
}

func createCmd() *cobra.Command {
	return dataCmd("create NAME", "Create an empty object (fails if it exists)", 1, 1,
		func(cmd *cobra.Command, ctx context.Context, io *client.IOContext, args []string) error {
			return io.Create(ctx, args[0], true)
		})
}

func appendCmd() *cobra.Command {
	return dataCmd("append NAME FILE|-", "Append a file (or standard input, up to one write) to an object", 2, 2,
		func(cmd *cobra.Command, ctx context.Context, io *client.IOContext, args []string) error {
			in, err := openInput(cmd, args[1])
			if err != nil {
				return err
			}
			defer in.Close()
			data, err := readAllLimited(in)
			if err != nil {
				return err
			}
			return io.Append(ctx, args[0], data)
		})
}

// readAllLimited reads an input meant for one op; the OSD refuses what is
// over its write limit with a clear error, so only guard memory here.
func readAllLimited(r io.Reader) ([]byte, error) {
	const limit = 128 << 20
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err == nil && len(data) > limit {
		return nil, fmt.Errorf("%w: the input is over 128 MiB: split it (put writes in chunks)", client.ErrTooBig)
	}
	return data, err
}

func truncateCmd() *cobra.Command {
	return dataCmd("truncate NAME SIZE", "Set an object's size", 2, 2,
		func(cmd *cobra.Command, ctx context.Context, io *client.IOContext, args []string) error {
			size, err := strconv.ParseUint(args[1], 10, 64)
			if err != nil {
				return fmt.Errorf("size %q is not a byte count", args[1])
			}
			return io.Truncate(ctx, args[0], size)
		})
}
