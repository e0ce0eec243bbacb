package osd

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gorados/gorados/osd/objop"
	"github.com/gorados/gorados/osd/pg"
	"github.com/gorados/gorados/osd/store"
)

// Metrics are the OSD's Prometheus metrics (gorados_osd_*). A nil *Metrics
// records nothing, so tests need not register any.
type Metrics struct {
	ops        *prometheus.CounterVec
	opBytes    *prometheus.CounterVec
	opLatency  *prometheus.HistogramVec
	pgs        *prometheus.GaugeVec
	repLatency prometheus.Histogram
	commitLat  prometheus.Histogram
	commitTxns prometheus.Histogram
	commitErrs prometheus.Counter
	epoch      prometheus.Gauge
}

// NewMetrics creates the metrics and registers them with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	lat := prometheus.ExponentialBuckets(0.0001, 2, 18) // 100µs .. ~13s
	m := &Metrics{
		ops: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "gorados_osd_ops_total",
			Help: "Client ops answered, by type (read, write) and result (ok, error, duplicate)."}, []string{"type", "result"}),
		opBytes: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "gorados_osd_op_bytes_total",
			Help: "Data bytes written or read by client ops, by type."}, []string{"type"}),
		opLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "gorados_osd_op_latency_seconds",
			Help: "Client op latency from arrival to reply, by type.", Buckets: lat}, []string{"type"}),
		pgs: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "gorados_osd_pgs",
			Help: "PGs on this OSD by state."}, []string{"state"}),
		repLatency: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "gorados_osd_repop_latency_seconds",
			Help: "Time for a replica to commit a repop, as the primary sees it.", Buckets: lat}),
		commitLat: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "gorados_osd_store_commit_latency_seconds",
			Help: "Object store group commit latency (execute, write, fsync).", Buckets: lat}),
		commitTxns: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "gorados_osd_store_commit_batch_txns",
			Help: "Transactions per object store group commit (one fsync each).", Buckets: prometheus.ExponentialBuckets(1, 2, 11)}),
		commitErrs: prometheus.NewCounter(prometheus.CounterOpts{Name: "gorados_osd_store_commit_errors_total",
			Help: "Object store group commits that failed."}),
		epoch: prometheus.NewGauge(prometheus.GaugeOpts{Name: "gorados_osd_map_epoch",
			Help: "Newest cluster map epoch this OSD has."}),
	}
	reg.MustRegister(m.ops, m.opBytes, m.opLatency, m.pgs, m.repLatency, m.commitLat, m.commitTxns, m.commitErrs, m.epoch)
	for _, s := range pg.AllStates() {
		m.pgs.WithLabelValues(s.String())
	}
	return m
}

// RegisterStoreStats exports the object store's block file and cache
// figures, read from st.Stats at each scrape.
func RegisterStoreStats(reg prometheus.Registerer, st *store.Store) {
	stat := func(f func(store.Stats) uint64) func() float64 {
		return func() float64 { return float64(f(st.Stats())) }
	}
	reg.MustRegister(
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "gorados_osd_store_cache_hits_total",
			Help: "Reads of consecutive block file units served from the OSD's block cache."}, stat(func(s store.Stats) uint64 { return s.CacheHits })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "gorados_osd_store_cache_misses_total",
			Help: "Reads of consecutive block file units that went to the disk."}, stat(func(s store.Stats) uint64 { return s.CacheMisses })),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "gorados_osd_store_cache_bytes",
			Help: "Bytes of block file data held in the block cache."}, stat(func(s store.Stats) uint64 { return s.CacheBytes })),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "gorados_osd_store_block_file_bytes",
			Help: "Size of the object store's block file."}, stat(func(s store.Stats) uint64 { return s.BlockFileBytes })),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "gorados_osd_store_block_file_free_bytes",
			Help: "Part of the block file no block uses."}, stat(func(s store.Stats) uint64 { return s.BlockFileFreeBytes })))
}

// OnCommit records one store group commit; pass it as store.Options.OnCommit.
func (m *Metrics) OnCommit(ci store.CommitInfo) {
	if m == nil {
		return
	}
	if ci.Err != nil {
		m.commitErrs.Inc()
		return
	}
	m.commitLat.Observe(ci.Duration.Seconds())
	m.commitTxns.Observe(float64(ci.Txns))
}

func opType(k objop.Kind) string {
	if k == objop.KindWrite {
		return "write"
	}
	return "read"
}

func (m *Metrics) opDone(op *clientOp, ok bool) {
	if m == nil {
		return
	}
	t := opType(op.kind)
	result := "error"
	if ok {
		result = "ok"
	}
	m.ops.WithLabelValues(t, result).Inc()
	m.opLatency.WithLabelValues(t).Observe(time.Since(op.start).Seconds())
	if ok {
		m.opBytes.WithLabelValues(t).Add(float64(opDataBytes(op)))
	}
}

func (m *Metrics) repOpDone(d time.Duration) {
	if m != nil {
		m.repLatency.Observe(d.Seconds())
	}
}

// pgStateChange moves one PG between state gauges; a new PG is counted
// in its initial state.
func (m *Metrics) pgStateChange(from, to pg.State, created bool) {
	if m == nil {
		return
	}
	if !created {
		m.pgs.WithLabelValues(from.String()).Dec()
	}
	m.pgs.WithLabelValues(to.String()).Inc()
}

func (m *Metrics) setEpoch(e uint64) {
	if m != nil {
		m.epoch.Set(float64(e))
	}
}
