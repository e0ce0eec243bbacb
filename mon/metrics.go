package mon

import (
	"net"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics holds one monitor's Prometheus collectors in a private registry
// (several monitors may share a process in tests).
type metrics struct {
	reg             *prometheus.Registry
	proposalSeconds prometheus.Histogram
	commands        *prometheus.CounterVec
}

func newMetrics(m *Monitor) *metrics {
	mt := &metrics{
		reg: prometheus.NewRegistry(),
		proposalSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "gorados_mon_proposal_seconds",
			Help:    "Time from proposing a map change batch to its commit and apply on the leader.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16),
		}),
		commands: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gorados_mon_commands_total",
			Help: "Commands handled by this monitor, by result code.",
		}, []string{"result"}),
	}
	gauge := func(name, help string, f func() float64) {
		mt.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, f))
	}
	gauge("gorados_mon_raft_term", "Current raft term.", func() float64 { return float64(m.nodeTerm()) })
	gauge("gorados_mon_raft_leader_id", "Raft id of the known leader (0 when none).", func() float64 { return float64(m.nodeLead()) })
	gauge("gorados_mon_is_leader", "1 when this monitor is the leader.", func() float64 { return b2f(m.node != nil && m.node.isLeader.Load()) })
	gauge("gorados_mon_raft_commit_index", "Highest raft index known committed.", func() float64 { return float64(m.nodeCommit()) })
	gauge("gorados_mon_raft_applied_index", "Highest raft index applied.", func() float64 { return float64(m.sm.applied()) })
	gauge("gorados_mon_map_epoch", "Epoch of the current cluster map.", func() float64 {
		if cur, _ := m.sm.current(); cur != nil {
			return float64(cur.Epoch)
		}
		return 0
	})
	mt.reg.MustRegister(mt.proposalSeconds, mt.commands)
	return mt
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func (m *Monitor) nodeTerm() uint64 {
	if m.node == nil {
		return 0
	}
	return m.node.term.Load()
}

func (m *Monitor) nodeLead() uint64 {
	if m.node == nil {
		return 0
	}
	return m.node.lead.Load()
}

func (m *Monitor) nodeCommit() uint64 {
	if m.node == nil {
		return 0
	}
	return m.node.commit.Load()
}

// startHTTP serves /metrics and /healthz when an HTTP address is set.
// /healthz answers 200 while the raft node runs and a leader is known.
func (m *Monitor) startHTTP() error {
	if m.cfg.HTTPAddr == "" {
		return nil
	}
	lis, err := net.Listen("tcp", m.cfg.HTTPAddr)
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(m.metrics.reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		if m.node == nil || m.node.err() != nil {
			http.Error(w, "raft node stopped", http.StatusServiceUnavailable)
			return
		}
		if m.nodeLead() == 0 {
			http.Error(w, "no leader: no quorum", http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ok\n"))
	})
	m.httpLis = lis
	m.httpSrv = &http.Server{Handler: mux}
	go func() { _ = m.httpSrv.Serve(lis) }()
	return nil
}
