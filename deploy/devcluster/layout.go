package devcluster

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
)

// Daemon kinds.
const (
	KindMon = "mon"
	KindOSD = "osd"
)

// Daemon is one process of the cluster as the layout records it.
type Daemon struct {
	// Name is "mon.a" or "osd.N"; it names the data, log and pid files.
	Name string `json:"name"`
	Kind string `json:"kind"`
	// Host is the CRUSH host of an OSD.
	Host string `json:"host,omitempty"`
	// Addr is a monitor's address or an OSD's public address.
	Addr string `json:"addr"`
	// ClusterAddr is an OSD's cluster-network address.
	ClusterAddr string `json:"cluster_addr,omitempty"`
	// HTTPAddr serves /metrics and /healthz.
	HTTPAddr string `json:"http_addr"`
	// ID is the OSD id the monitors assigned (-1 until the OSD booted).
	ID int32 `json:"id"`
}

// Layout is what cluster.json holds: the daemons and the pool, fixed when
// the cluster is created.
type Layout struct {
	Daemons []*Daemon `json:"daemons"`
	Pool    string    `json:"pool"`
	PGNum   uint32    `json:"pg_num"`
	Size    uint32    `json:"size"`
	MinSize uint32    `json:"min_size"`
}

const layoutFile = "cluster.json"

// Mons returns the monitors in order.
func (l *Layout) Mons() []*Daemon { return l.kind(KindMon) }

// OSDs returns the OSDs in creation order.
func (l *Layout) OSDs() []*Daemon { return l.kind(KindOSD) }

func (l *Layout) kind(k string) []*Daemon {
	var out []*Daemon
	for _, d := range l.Daemons {
		if d.Kind == k {
			out = append(out, d)
		}
	}
	return out
}

// MonAddrs returns the monitor addresses.
func (l *Layout) MonAddrs() []string {
	var out []string
	for _, d := range l.Mons() {
		out = append(out, d.Addr)
	}
	return out
}

// newLayout assigns names, hosts and free addresses for cfg.
func newLayout(cfg Config) (*Layout, error) {
	l := &Layout{Pool: cfg.Pool, PGNum: cfg.PGNum, Size: cfg.Size, MinSize: cfg.MinSize}
	ip := func(net, n int) string {
		if cfg.SharedIP {
			return "127.0.0.1"
		}
		return fmt.Sprintf("127.0.%d.%d", net, n)
	}
	for i := range cfg.Monitors {
		d := &Daemon{Name: "mon." + string(rune('a'+i)), Kind: KindMon, ID: -1}
		var err error
		if d.Addr, err = freeAddr(ip(1, 1+i)); err != nil {
			return nil, err
		}
		if d.HTTPAddr, err = freeAddr(ip(1, 1+i)); err != nil {
			return nil, err
		}
		l.Daemons = append(l.Daemons, d)
	}
	for h := range cfg.Hosts {
		for range cfg.OSDsPerHost {
			d, err := newOSD(len(l.OSDs()), fmt.Sprintf("host%d", h+1), ip(1, 11+h), ip(2, 11+h))
			if err != nil {
				return nil, err
			}
			l.Daemons = append(l.Daemons, d)
		}
	}
	return l, nil
}

func newOSD(n int, host, publicIP, clusterIP string) (*Daemon, error) {
	d := &Daemon{Name: fmt.Sprintf("osd.%d", n), Kind: KindOSD, Host: host, ID: -1}
	var err error
	if d.Addr, err = freeAddr(publicIP); err != nil {
		return nil, err
	}
	if d.ClusterAddr, err = freeAddr(clusterIP); err != nil {
		return nil, err
	}
	if d.HTTPAddr, err = freeAddr(publicIP); err != nil {
		return nil, err
	}
	return d, nil
}

// freeAddr returns ip:port with a port that was free a moment ago. The
// listener is closed at once; the daemon binds it shortly after.
func freeAddr(ip string) (string, error) {
	l, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
	if err != nil {
		return "", fmt.Errorf("no free port on %s: %w (on systems other than Linux, use the shared-IP mode)", ip, err)
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// readLayout loads dir/cluster.json.
func readLayout(dir string) (*Layout, error) {
	b, err := os.ReadFile(filepath.Join(dir, layoutFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%w in %s: start one with `radosctl dev up --dir %s`", ErrNoCluster, dir, dir)
	}
	if err != nil {
		return nil, err
	}
	l, err := parseLayout(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w: remove the directory to start over", filepath.Join(dir, layoutFile), err)
	}
	return l, nil
}

// parseLayout decodes and checks a cluster.json: names unique and safe as
// file names, kinds known, addresses present.
func parseLayout(b []byte) (*Layout, error) {
	var l Layout
	if err := json.Unmarshal(b, &l); err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for _, d := range l.Daemons {
		switch {
		case d == nil:
			return nil, errors.New("the layout has an empty daemon entry")
		case d.Kind != KindMon && d.Kind != KindOSD:
			return nil, fmt.Errorf("daemon %q has unknown kind %q", d.Name, d.Kind)
		case !strings.HasPrefix(d.Name, d.Kind+".") || strings.ContainsAny(d.Name, "/\\\x00") || d.Name == d.Kind+"." || seen[d.Name]:
			return nil, fmt.Errorf("daemon name %q is not a unique %s.ID", d.Name, d.Kind)
		case d.Addr == "" || d.HTTPAddr == "" || (d.Kind == KindOSD && d.ClusterAddr == ""):
			return nil, fmt.Errorf("daemon %s lacks an address", d.Name)
		}
		seen[d.Name] = true
	}
	if len(l.Mons()) == 0 {
		return nil, errors.New("the layout lists no monitor")
	}
	return &l, nil
}

// write saves the layout atomically, with the radosctl config file.
func (l *Layout) write(dir string) error {
	b, err := json.MarshalIndent(l, "", "  ")
	if err != nil {
		return err
	}
	if err := writeFileAtomic(filepath.Join(dir, layoutFile), append(b, '\n')); err != nil {
		return err
	}
	conf := "# radosctl reads this file through GORADOS_CONF or --conf\nmon = " + strings.Join(l.MonAddrs(), ",") + "\n"
	return writeFileAtomic(filepath.Join(dir, ConfFile), []byte(conf))
}

// ConfFile is the radosctl config file in the cluster directory.
const ConfFile = "gorados.conf"

func writeFileAtomic(path string, data []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
