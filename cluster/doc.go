// Package cluster owns the cluster map: the OSDMap (epoch, fsid, pools, OSD
// state and addresses, weights, the CRUSH map, pg_temp and upmap exceptions),
// its Incremental, Apply and Diff, and the object -> PG -> up/acting placement
// pipeline that clients and OSDs compute themselves.
//
// Everything here is a pure function of its inputs: no I/O, no clocks, no
// goroutines. The monitors, OSDs and clients wrap it.
package cluster
