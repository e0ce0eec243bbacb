// Package report renders the monitors' state for people and scripts: the
// text and JSON of `radosctl status`, `mon stat`, `health`, `osd dump`,
// `osd tree`, `osd pool ls/get` and `osd crush rule ls/dump`, in the
// layout of the equivalent Ceph commands. It only reads a cluster map and a
// monitor status; it does no I/O beyond writing to the given writer.
package report
