package main

// `radosctl crush compile|decompile|tree|dump`: crushtool's -c, -d, --tree
// and --dump jobs. Maps are read in either format, detected by content.

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/gorados/gorados/crush"
	"github.com/spf13/cobra"
)

func init() {
	commandGroups = append(commandGroups, addCrushFormatCommands)
}

func addCrushFormatCommands(root *cobra.Command) {
	group := subcommand(root, "crush", "CRUSH map tools (crushtool's jobs)")
	group.AddCommand(crushCompileCmd(), crushDecompileCmd(), crushTreeCmd(), crushDumpCmd())
}

func crushCompileCmd() *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "compile IN -o OUT",
		Short: "Compile a text CRUSH map into Ceph's binary format (crushtool -c)",
		Long: "Compiles crushtool's text format into the binary map that `crushtool -c` writes,\n" +
			"byte for byte. IN may also be a binary map, which is re-encoded. Use - for stdin.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if out == "" {
				return errors.New("crush compile: give the output file with -o OUT")
			}
			m, err := loadCrushMap(cmd, args[0])
			if err != nil {
				return err
			}
			return writeOutput(cmd, out, m.Encode())
		},
	}
	cmd.Flags().StringVarP(&out, "output", "o", "", "binary map to write")
	return cmd
}

func crushDecompileCmd() *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "decompile IN [-o OUT]",
		Short: "Write a CRUSH map as crushtool's text format (crushtool -d)",
		Long: "Writes the map as `crushtool -d` does, byte for byte. IN is a binary or text map\n" +
			"(- for stdin); without -o the text goes to standard output.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			m, err := loadCrushMap(cmd, args[0])
			if err != nil {
				return err
			}
			var buf bytes.Buffer
			if err := m.WriteText(&buf); err != nil {
				return fmt.Errorf("crush decompile %s: %w", args[0], err)
			}
			return writeOutput(cmd, out, buf.Bytes())
		},
	}
	cmd.Flags().StringVarP(&out, "output", "o", "", "text map to write (default: standard output)")
	return cmd
}

func crushTreeCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "tree MAP",
		Short: "Print the hierarchy as crushtool --tree does",
		Long: "Prints ID, CLASS, WEIGHT, one column per choose_args set and TYPE NAME for every\n" +
			"bucket and device, shadow trees included, exactly as `crushtool --tree`.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			m, err := loadCrushMap(cmd, args[0])
			if err != nil {
				return err
			}
			return m.WriteTree(cmd.OutOrStdout())
		},
	}
}

func crushDumpCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "dump MAP",
		Short: "Print the map as JSON, as crushtool --dump does",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			m, err := loadCrushMap(cmd, args[0])
			if err != nil {
				return err
			}
			return m.WriteJSON(cmd.OutOrStdout())
		},
	}
}

// loadCrushMap reads a text or binary map from a file or stdin ("-").
// Errors name the file; compile errors then read "FILE:LINE:COL: ...".
func loadCrushMap(cmd *cobra.Command, path string) (*crush.Map, error) {
	var data []byte
	var err error
	if path == "-" {
		data, err = io.ReadAll(cmd.InOrStdin())
	} else {
		data, err = os.ReadFile(path)
	}
	if err != nil {
		return nil, fmt.Errorf("read CRUSH map: %w", err)
	}
	m, err := crush.Load(data)
	var ce *crush.CompileError
	switch {
	case errors.As(err, &ce):
		return nil, fmt.Errorf("%s:%w", path, err)
	case err != nil:
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

// writeOutput writes data to path, or to the command's output when path is
// empty or "-".
func writeOutput(cmd *cobra.Command, path string, data []byte) error {
	if path == "" || path == "-" {
		_, err := cmd.OutOrStdout().Write(data)
		return err
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
