package main

// Xattr and omap data commands (rados setxattr, getomapval, ...).

import (
	"context"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/gorados/gorados/client"
	"github.com/gorados/gorados/client/radostool"
)

// valueArg returns the value given as argument i, or read from
// --input-file, or from standard input when neither is given.
func valueArg(cmd *cobra.Command, args []string, i int, inputFile string) ([]byte, error) {
	switch {
	case len(args) > i && inputFile != "":
		return nil, fmt.Errorf("give the value either as an argument or with --input-file, not both")
	case len(args) > i:
		return []byte(args[i]), nil
	case inputFile != "":
		return os.ReadFile(inputFile)
	}
	return readAllLimited(cmd.InOrStdin())
}

func setxattrCmd() *cobra.Command {
	var inputFile string
	c := dataCmd("setxattr NAME ATTR [VALUE]", "Set an extended attribute (value from the argument, --input-file or standard input)", 2, 3,
		func(cmd *cobra.Command, ctx context.Context, io *client.IOContext, args []string) error {
			v, err := valueArg(cmd, args, 2, inputFile)
			if err != nil {
				return err
			}
			return io.SetXattr(ctx, args[0], args[1], v)
		})
	c.Flags().StringVar(&inputFile, "input-file", "", "read the value from this file")
	return c
}

func getxattrCmd() *cobra.Command {
	return dataCmd("getxattr NAME ATTR", "Print an extended attribute's value", 2, 2,
		func(cmd *cobra.Command, ctx context.Context, io *client.IOContext, args []string) error {
			v, err := io.GetXattr(ctx, args[0], args[1])
			if err != nil {
				return err
			}
			_, err = cmd.OutOrStdout().Write(v)
			return err
		})
}

func rmxattrCmd() *cobra.Command {
	return dataCmd("rmxattr NAME ATTR", "Remove an extended attribute", 2, 2,
		func(cmd *cobra.Command, ctx context.Context, io *client.IOContext, args []string) error {
			return io.RmXattr(ctx, args[0], args[1])
		})
}

func listxattrCmd() *cobra.Command {
	return dataCmd("listxattr NAME", "List an object's extended attributes", 1, 1,
		func(cmd *cobra.Command, ctx context.Context, io *client.IOContext, args []string) error {
			return radostool.ListXattrs(ctx, io, args[0], cmd.OutOrStdout())
		})
}

func setomapvalCmd() *cobra.Command {
	var inputFile string
	c := dataCmd("setomapval NAME KEY [VALUE]", "Set an omap key (value from the argument, --input-file or standard input)", 2, 3,
		func(cmd *cobra.Command, ctx context.Context, io *client.IOContext, args []string) error {
			v, err := valueArg(cmd, args, 2, inputFile)
			if err != nil {
				return err
			}
			return io.SetOmap(ctx, args[0], map[string][]byte{args[1]: v})
		})
	c.Flags().StringVar(&inputFile, "input-file", "", "read the value from this file")
	return c
}

func getomapvalCmd() *cobra.Command {
	return dataCmd("getomapval NAME KEY [FILE|-]", "Show an omap value (hex dump), or write it raw to FILE or - (standard output)", 2, 3,
		func(cmd *cobra.Command, ctx context.Context, io *client.IOContext, args []string) error {
			if len(args) < 3 {
				return radostool.GetOmapVal(ctx, io, args[0], args[1], cmd.OutOrStdout(), false)
			}
			if args[2] == "-" {
				return radostool.GetOmapVal(ctx, io, args[0], args[1], cmd.OutOrStdout(), true)
			}
			f, err := os.Create(args[2])
			if err != nil {
				return err
			}
			if err := radostool.GetOmapVal(ctx, io, args[0], args[1], f, true); err != nil {
				f.Close()
				os.Remove(args[2])
				return err
			}
			return f.Close()
		})
}

func rmomapkeyCmd() *cobra.Command {
	return dataCmd("rmomapkey NAME KEY...", "Remove omap keys", 2, 1<<20,
		func(cmd *cobra.Command, ctx context.Context, io *client.IOContext, args []string) error {
			return io.RmOmapKeys(ctx, args[0], args[1:]...)
		})
}

func listomapkeysCmd() *cobra.Command {
	return dataCmd("listomapkeys NAME", "List an object's omap keys", 1, 1,
		func(cmd *cobra.Command, ctx context.Context, io *client.IOContext, args []string) error {
			return radostool.ListOmapKeys(ctx, io, args[0], cmd.OutOrStdout())
		})
}

func listomapvalsCmd() *cobra.Command {
	return dataCmd("listomapvals NAME", "List an object's omap keys and values", 1, 1,
		func(cmd *cobra.Command, ctx context.Context, io *client.IOContext, args []string) error {
			return radostool.ListOmapVals(ctx, io, args[0], cmd.OutOrStdout())
		})
}

func clearomapCmd() *cobra.Command {
	return dataCmd("clearomap NAME...", "Remove every omap key of objects", 1, 1<<20,
		func(cmd *cobra.Command, ctx context.Context, io *client.IOContext, args []string) error {
			for _, name := range args {
				if err := io.ClearOmap(ctx, name); err != nil {
					return err
				}
			}
			return nil
		})
}
