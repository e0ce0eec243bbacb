package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"

	"github.com/spf13/cobra"

	"github.com/gorados/gorados/osd"
	"github.com/gorados/gorados/osd/store"
)

// newStore wires `osd store ...`, the offline tool for a stopped OSD.
func newStore(stdout io.Writer) *cobra.Command {
	var dir string
	cmd := &cobra.Command{
		Use:   "store",
		Short: "Inspect, export and import the object store of a stopped OSD (as ceph-objectstore-tool)",
	}
	cmd.PersistentFlags().StringVar(&dir, "data", "", "data directory of the stopped OSD (required)")
	_ = cmd.MarkPersistentFlagRequired("data")
	cmd.AddCommand(storeList(&dir, stdout), storeListPGs(&dir, stdout), storeExport(&dir, stdout),
		storeImport(&dir, stdout), storeGet(&dir, stdout))
	return cmd
}

func storeList(dir *string, stdout io.Writer) *cobra.Command {
	var pgid string
	cmd := &cobra.Command{
		Use:   "list [--pg PGID]",
		Short: `List objects as JSON lines ["PGID",{object}]`,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return osd.StoreList(cmd.Context(), *dir, pgid, stdout)
		},
	}
	cmd.Flags().StringVar(&pgid, "pg", "", "only this PG (e.g. 1.1a)")
	return cmd
}

func storeListPGs(dir *string, stdout io.Writer) *cobra.Command {
	return &cobra.Command{
		Use:   "list-pgs",
		Short: "List the PGs held by the OSD",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return osd.StoreListPGs(cmd.Context(), *dir, stdout)
		},
	}
}

// openOut opens path for writing, "-" or "" meaning stdout.
func openOut(path string, stdout io.Writer) (io.Writer, func() error, error) {
	if path == "" || path == "-" {
		return stdout, func() error { return nil }, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, nil, err
	}
	return f, func() error {
		if err := f.Sync(); err != nil {
			f.Close()
			return err
		}
		return f.Close()
	}, nil
}

func storeExport(dir *string, stdout io.Writer) *cobra.Command {
	var pgid, file string
	cmd := &cobra.Command{
		Use:   "export --pg PGID [--file FILE|-]",
		Short: "Export one PG (objects, log, info) to a file or stdout",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			w, done, err := openOut(file, stdout)
			if err != nil {
				return err
			}
			stats, err := osd.StoreExport(cmd.Context(), *dir, pgid, w)
			if err != nil {
				return err
			}
			if err := done(); err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "exported PG %s: %+v\n", pgid, stats)
			return nil
		},
	}
	cmd.Flags().StringVar(&pgid, "pg", "", "PG to export (required)")
	cmd.Flags().StringVar(&file, "file", "-", "output file, - for stdout")
	_ = cmd.MarkFlagRequired("pg")
	return cmd
}

func storeImport(dir *string, stdout io.Writer) *cobra.Command {
	var file string
	cmd := &cobra.Command{
		Use:   "import [--file FILE|-]",
		Short: "Import a PG exported with `osd store export`",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var r io.Reader = cmd.InOrStdin()
			if file != "-" {
				f, err := os.Open(file)
				if err != nil {
					return err
				}
				defer f.Close()
				r = f
			}
			c, stats, err := osd.StoreImport(cmd.Context(), *dir, r)
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "imported PG %s: %+v\n", c, stats)
			return nil
		},
	}
	cmd.Flags().StringVar(&file, "file", "-", "input file, - for stdin")
	return cmd
}

func storeGet(dir *string, stdout io.Writer) *cobra.Command {
	var sel osd.ObjectSelector
	var what, out string
	cmd := &cobra.Command{
		Use:   "get NAME [--pg PGID] [--namespace NS] [--key KEY] [--what data|info|xattrs|omap] [--out FILE|-]",
		Short: "Print an object's data (default), info, xattrs or omap",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			sel.Name = args[0]
			d, err := osd.StoreGet(cmd.Context(), *dir, sel)
			if err != nil {
				return err
			}
			w, done, err := openOut(out, stdout)
			if err != nil {
				return err
			}
			if err := writeDump(w, d, what); err != nil {
				return err
			}
			return done()
		},
	}
	f := cmd.Flags()
	f.StringVar(&sel.PG, "pg", "", "PG holding the object (default: search all)")
	f.StringVar(&sel.Namespace, "namespace", "", "object namespace")
	f.StringVar(&sel.Key, "key", "", "object locator key")
	f.StringVar(&what, "what", "data", "data, info, xattrs or omap")
	f.StringVar(&out, "out", "-", "output file, - for stdout")
	return cmd
}

// writeDump prints the part of an object dump the user asked for.
func writeDump(w io.Writer, d *store.ObjectDump, what string) error {
	switch what {
	case "data":
		_, err := w.Write(d.Data)
		return err
	case "info":
		return json.NewEncoder(w).Encode(map[string]any{"pg": d.Coll.String(), "object": d.ID,
			"size": d.Info.Size, "mtime": d.Info.Mtime, "version": d.Info.Version.String(), "user_version": d.Info.UserVersion})
	case "xattrs":
		names := make([]string, 0, len(d.Xattrs))
		for k := range d.Xattrs {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			fmt.Fprintf(w, "%s\t%q\n", k, d.Xattrs[k])
		}
		return nil
	case "omap":
		for _, e := range d.Omap {
			fmt.Fprintf(w, "%s\t%q\n", e.Key, e.Value)
		}
		return nil
	}
	return fmt.Errorf("%w: --what %q: use data, info, xattrs or omap", errUsage, what)
}
