package report

import "fmt"

// humanBytes prints a byte count as Ceph's status does: "0 B", "512 B",
// "4.5 KiB", "120 MiB", "1.2 GiB" (one decimal below 10 of a unit).
func humanBytes(n uint64) string {
	return humanUnits(n, 1024, []string{" B", " KiB", " MiB", " GiB", " TiB", " PiB", " EiB"})
}

// humanCount prints a count as Ceph's status does: "999", "1.2k", "34M".
func humanCount(n uint64) string {
	return humanUnits(n, 1000, []string{"", "k", "M", "G", "T", "P", "E"})
}

func humanUnits(n, base uint64, units []string) string {
	if n < base {
		return fmt.Sprintf("%d%s", n, units[0])
	}
	v, u := float64(n), 0
	for v >= float64(base) && u < len(units)-1 {
		v /= float64(base)
		u++
	}
	if v < 10 {
		return fmt.Sprintf("%.1f%s", v, units[u])
	}
	return fmt.Sprintf("%.0f%s", v, units[u])
}
