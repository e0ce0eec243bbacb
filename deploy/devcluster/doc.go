// Package devcluster runs a whole gorados cluster on one machine: monitors
// and OSDs as separate processes on loopback, each OSD with its own public
// and cluster address and a "host" of its own in CRUSH, all data and logs
// under one directory. It backs `radosctl dev up|down|status`, the
// end-to-end tests and the benchmarks.
//
// Layout of the data directory (default ./.dev):
//
//	cluster.json     the cluster's layout: daemons, addresses, pool
//	gorados.conf     `mon = ...` for radosctl (GORADOS_CONF)
//	bin/             mon and osd when built from source
//	mon.a/ osd.0/    daemon data directories
//	log/NAME.log     daemon output
//	run/NAME.pid     pids of running daemons
//
// On Linux every monitor and host gets its own loopback address, so the
// cluster reads like a real one: monitors on 127.0.1.1-3, host N's OSDs on
// public address 127.0.1.(10+N) and cluster address 127.0.2.(10+N). Ports
// are chosen free when the cluster is created and kept across restarts.
//
// The package only starts, watches and stops processes; everything it
// knows about the cluster it learns through the monitor client and the
// data client, as any user would.
package devcluster
