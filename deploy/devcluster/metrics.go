package devcluster

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// Samples are the values of one Prometheus text exposition, keyed by the
// series as printed (`name{label="v",...}`, or `name`).
type Samples map[string]float64

// Scrape reads http://addr/metrics.
func Scrape(ctx context.Context, addr string) (Samples, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/metrics", nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET http://%s/metrics: %s", addr, resp.Status)
	}
	return ParseSamples(resp.Body)
}

// ParseSamples reads a Prometheus text exposition; lines that are not
// "series value" (comments, malformed lines) are skipped.
func ParseSamples(r io.Reader) (Samples, error) {
	s := Samples{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			continue
		}
		s[line[:i]] = v
	}
	return s, sc.Err()
}

// Sum adds the values of every series of metric name (any labels) whose
// printed form contains each of the given label matchers (`state="active"`).
func (s Samples) Sum(name string, matchers ...string) float64 {
	var total float64
	for k, v := range s {
		if k != name && !strings.HasPrefix(k, name+"{") {
			continue
		}
		ok := true
		for _, m := range matchers {
			ok = ok && strings.Contains(k, m)
		}
		if ok {
			total += v
		}
	}
	return total
}

// ScrapeOSDs scrapes every OSD of the layout and returns the samples per
// OSD name; OSDs that do not answer are left out.
func (c *Cluster) ScrapeOSDs(ctx context.Context) map[string]Samples {
	out := map[string]Samples{}
	for _, d := range c.layout.OSDs() {
		if s, err := Scrape(ctx, d.HTTPAddr); err == nil {
			out[d.Name] = s
		}
	}
	return out
}
