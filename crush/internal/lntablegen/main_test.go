package main

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"testing"
)

// TestGeneratedFileIsCurrent regenerates ln_table.go in memory and compares
// it with the committed file, so the two can never drift apart.
func TestGeneratedFileIsCurrent(t *testing.T) {
	f, err := os.Open("crush-ln-tables.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tables, err := parseTables(f)
	if err != nil {
		t.Fatal(err)
	}
	if err := checkTables(tables); err != nil {
		t.Fatal(err)
	}
	src, err := render(tables)
	if err != nil {
		t.Fatal(err)
	}
	committed, err := os.ReadFile("../../ln_table.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(src, committed) {
		t.Error("crush/ln_table.go is stale: run go generate ./crush")
	}
}

func TestBadTablesRejected(t *testing.T) {
	data, err := os.ReadFile("crush-ln-tables.txt")
	if err != nil {
		t.Fatal(err)
	}
	// One changed digit must fail the checksum.
	tampered := strings.Replace(string(data), "279293000147008", "279293000147009", 1)
	tables, err := parseTables(strings.NewReader(tampered))
	if err != nil {
		t.Fatal(err)
	}
	if err := checkTables(tables); !errors.Is(err, errBadTables) {
		t.Errorf("tampered table: err %v, want checksum failure", err)
	}
	for _, bad := range []string{"[LL] 2\n1\n", "5\n", "[LL] 1\nx\n", "[LL\n"} {
		if _, err := parseTables(strings.NewReader(bad)); !errors.Is(err, errBadTables) {
			t.Errorf("parse %q: err %v, want errBadTables", bad, err)
		}
	}
}
