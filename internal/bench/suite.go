//go:build linux

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/leaseprobe/leaseprobe/internal/lab"
)

// figure is one reported number, with its goal.
type figure struct {
	name  string
	value string
	goal  string
	met   *bool
}

// report collects the suite's figures.
type report struct {
	figures []figure
	notes   []string
}

func (r *report) add(name, value, goal string, met *bool) {
	r.figures = append(r.figures, figure{name, value, goal, met})
}

func (r *report) note(format string, args ...any) {
	r.notes = append(r.notes, fmt.Sprintf(format, args...))
}

func (r *report) print(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "FIGURE\tVALUE\tGOAL\tMET")
	for _, f := range r.figures {
		met := ""
		if f.met != nil {
			met = map[bool]string{true: "yes", false: "NO"}[*f.met]
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", f.name, f.value, f.goal, met)
	}
	tw.Flush()
	for _, n := range r.notes {
		fmt.Fprintln(w, "note:", n)
	}
}

func yes(b bool) *bool { return &b }

func (r *runner) suite(ctx context.Context, s settings) (*report, error) {
	rep := &report{}
	steps := []func(context.Context, settings, *report) error{
		r.latency, r.manyServers, r.flood, r.batch,
	}
	for _, step := range steps {
		if err := step(ctx, s, rep); err != nil {
			return rep, err
		}
	}

	return rep, nil
}

// checkDoc is what the suite reads of check's JSON.
type checkDoc struct {
	Verdict string `json:"verdict"`
	Replies []struct {
		Type string `json:"type"`
	} `json:"replies"`
}

func replyCount(m measurement) (int, error) {
	var d checkDoc
	if err := json.Unmarshal([]byte(m.Stdout), &d); err != nil {
		return 0, fmt.Errorf("check output: %w", err)
	}

	return len(d.Replies), nil
}

// latency: the time check adds beyond its timeout, --first next to
// dhcping against the same server, start-up time, one check's memory.
func (r *runner) latency(ctx context.Context, s settings, rep *report) error {
	l, err := newLab()
	if err != nil {
		return err
	}
	defer l.Close()
	client, err := l.AddClient("client")
	if err != nil {
		return err
	}
	srvHost, err := l.AddServer("server")
	if err != nil {
		return err
	}
	// Authoritative, so it keeps answering dhcping after each RELEASE
	// (it creates the lease again): the lease database is the lab's own,
	// thrown away afterwards.
	if _, err := srvHost.StartDnsmasq(ctx, lab.DnsmasqConfig{
		Authoritative: true,
		Leases:        []lab.Lease{{MAC: clientMAC, IP: leasedIP}}}); err != nil {
		return err
	}

	base := []string{r.probe, "check", "-i", client.Iface, "-m",
		clientMAC.String(), "-a", leasedIP.String(), "--json"}
	ms, err := r.measure(client, s.runs, false,
		append(base, "-t", s.timeout.String())...)
	if err != nil {
		return err
	}
	over := make([]float64, len(ms))
	for i, m := range ms {
		over[i] = m.WallMS - float64(s.timeout.Microseconds())/1000
	}
	o := median(over)
	rep.add(fmt.Sprintf("check -t %s: wall time minus timeout", s.timeout),
		fmt.Sprintf("%.1f ms", o), "< 15 ms", yes(o < 15))
	outs := make([]float64, len(ms))
	for i, m := range ms {
		outs[i] = m.OutputMS - float64(s.timeout.Microseconds())/1000
	}
	rep.add(fmt.Sprintf("check -t %s: report on stdout, minus timeout",
		s.timeout), fmt.Sprintf("%.1f ms", median(outs)), "", nil)
	if err := r.sockClose(client, s.runs, rep); err != nil {
		return err
	}
	rep.add("check: peak RSS", fmt.Sprintf("%.1f MB",
		float64(maxRSS(ms))/1024), "< 20 MB", yes(maxRSS(ms) < 20*1024))

	first, err := r.measure(client, s.runs, false,
		append(base, "-t", s.timeout.String(), "--first")...)
	if err != nil {
		return err
	}
	f := median(walls(first))
	rep.add("check --first: wall time", fmt.Sprintf("%.1f ms", f), "", nil)

	if err := r.dhcping(l, s, rep, f); err != nil {
		return err
	}

	ver, err := r.measure(client, s.runs, false, r.probe, "version")
	if err != nil {
		return err
	}
	rep.add("leaseprobe version: start-up", fmt.Sprintf("%.1f ms",
		median(walls(ver))), "", nil)

	return nil
}

// sockClose times the kernel's release of the probe's raw socket, which
// every check pays between writing its report and exiting.
func (r *runner) sockClose(h *lab.Host, n int, rep *report) error {
	out, err := exec.Command("ip", "netns", "exec", h.NS, r.self,
		"sockclose", "-n", fmt.Sprint(n), "-i", h.Iface).Output()
	if err != nil {
		return fmt.Errorf("sockclose: %w", err)
	}

	var xs []float64
	for _, f := range strings.Fields(string(out)) {
		var x float64
		if _, err := fmt.Sscan(f, &x); err != nil {
			return fmt.Errorf("sockclose: %q: %w", f, err)
		}
		xs = append(xs, x)
	}
	rep.add("check: kernel release of the raw socket, after the report",
		fmt.Sprintf("%.1f ms", median(xs)), "", nil)

	return nil
}

// dhcping times Debian's dhcping against the same server: it needs the
// leased address on its own interface, asks by unicast, and sends a
// RELEASE after each answer.
func (r *runner) dhcping(l *lab.Lab, s settings, rep *report, first float64) error {
	path, err := exec.LookPath("dhcping")
	if err != nil {
		rep.note("dhcping not installed (apt-get install dhcping): " +
			"comparison left out")

		return nil
	}
	h, err := l.AddHost("dhcping", lab.HostConfig{MAC: clientMAC,
		Prefix: netip.PrefixFrom(leasedIP, 24)})
	if err != nil {
		return err
	}
	ms, err := r.measure(h, s.runs, false, path, "-c", leasedIP.String(),
		"-s", lab.ServerAddr(1).String(), "-h", clientMAC.String(),
		"-t", fmt.Sprint(max(1, int(s.timeout.Seconds()))))
	if err != nil {
		return err
	}
	ok := 0
	for _, m := range ms {
		if m.Exit == 0 {
			ok++
		}
	}
	d := median(walls(ms))
	rep.add("dhcping: wall time", fmt.Sprintf("%.1f ms (%d/%d answered)",
		d, ok, len(ms)), "", nil)
	if d > 0 {
		rep.add("check --first / dhcping", fmt.Sprintf("%.2f", first/d),
			"", nil)
	}
	rep.note("dhcping sends a DHCPRELEASE after each answer; the lab's " +
		"dnsmasq is authoritative and its lease database is thrown away")

	return nil
}

// serverLab makes a lab with a client and n dnsmasq servers that all hold
// the client's lease.
func serverLab(ctx context.Context, n int) (*lab.Lab, *lab.Host, error) {
	l, err := newLab()
	if err != nil {
		return nil, nil, err
	}
	client, err := l.AddClient("client")
	if err == nil {
		for i := 1; i <= n && err == nil; i++ {
			var h *lab.Host
			if h, err = l.AddServer(fmt.Sprintf("srv%d", i)); err == nil {
				_, err = h.StartDnsmasq(ctx, lab.DnsmasqConfig{
					Leases: []lab.Lease{{MAC: clientMAC, IP: leasedIP}}})
			}
		}
	}
	if err != nil {
		l.Close()

		return nil, nil, err
	}

	return l, client, nil
}

// manyServers: replies caught when many servers answer one request.
func (r *runner) manyServers(ctx context.Context, s settings, rep *report) error {
	l, client, err := serverLab(ctx, s.servers)
	if err != nil {
		return err
	}
	defer l.Close()

	ms, err := r.measure(client, s.runs, true, r.probe, "check", "-i",
		client.Iface, "-m", clientMAC.String(), "-a", leasedIP.String(),
		"-t", s.timeout.String(), "--json")
	if err != nil {
		return err
	}
	worst := s.servers
	var counts []string
	for _, m := range ms {
		n, err := replyCount(m)
		if err != nil {
			return err
		}
		worst = min(worst, n)
		counts = append(counts, fmt.Sprint(n))
	}
	rep.add(fmt.Sprintf("%d servers answer one request: replies caught",
		s.servers), fmt.Sprintf("%s (runs: %s)", fmt.Sprint(worst),
		strings.Join(counts, " ")), fmt.Sprintf("%d every run", s.servers),
		yes(worst == s.servers))

	return nil
}

// flood: replies caught while another host floods the segment.
func (r *runner) flood(ctx context.Context, s settings, rep *report) error {
	l, client, err := serverLab(ctx, s.floodServers)
	if err != nil {
		return err
	}
	defer l.Close()
	flooder, err := l.AddHost("flooder", lab.HostConfig{
		MAC: net.HardwareAddr{2, 0, 0, 0, 0xf1, 0x00}})
	if err != nil {
		return err
	}

	for _, kind := range []string{"broadcast", "dhcp"} {
		worst := s.floodServers
		for range s.runs {
			count := s.floodRate * int(s.timeout/time.Second+1)
			fl := exec.Command("ip", "netns", "exec", flooder.NS, r.self,
				"flood", "-i", flooder.Iface, "-kind", kind, "-rate",
				fmt.Sprint(s.floodRate), "-count", fmt.Sprint(count))
			fl.Stderr = os.Stderr
			if err := fl.Start(); err != nil {
				return err
			}
			ms, err := r.measure(client, 1, true, r.probe, "check", "-i",
				client.Iface, "-m", clientMAC.String(), "-a",
				leasedIP.String(), "-t", s.timeout.String(), "--json")
			_ = fl.Process.Kill()
			_ = fl.Wait()
			if err != nil {
				return err
			}
			n, err := replyCount(ms[0])
			if err != nil {
				return err
			}
			worst = min(worst, n)
		}
		what := "unrelated broadcast"
		if kind == "dhcp" {
			what = "near-miss DHCP replies to port 68"
		}
		rep.add(fmt.Sprintf("flood of %d/s %s: replies caught of %d",
			s.floodRate, what, s.floodServers), fmt.Sprintf("%d (worst run)",
			worst), "all", yes(worst == s.floodServers))
	}

	return nil
}

// batch: many leases in one batch against the same pairs checked one at
// a time by a shell loop, with the same timeout and the same answers.
func (r *runner) batch(ctx context.Context, s settings, rep *report) error {
	l, err := newLab()
	if err != nil {
		return err
	}
	defer l.Close()
	client, err := l.AddClient("client")
	if err != nil {
		return err
	}

	prefix := netip.MustParsePrefix("192.0.2.1/24")
	start, end := lab.DefaultPoolStart, lab.DefaultPoolEnd
	if s.leases > 150 {
		prefix = netip.MustParsePrefix("198.18.0.1/21")
		start = netip.MustParseAddr("198.18.0.10")
		end = netip.MustParseAddr("198.18.7.250")
	}
	h, err := l.AddHost("server", lab.HostConfig{MAC: lab.ServerMAC(1),
		Prefix: prefix})
	if err != nil {
		return err
	}
	leases := make([]lab.Lease, s.leases)
	var csv strings.Builder
	csv.WriteString("mac,ip\n")
	ip := start
	for i := range leases {
		mac := net.HardwareAddr{2, 0, 1, 0, byte(i >> 8), byte(i)}
		leases[i] = lab.Lease{MAC: mac, IP: ip}
		fmt.Fprintf(&csv, "%s,%s\n", mac, ip)
		ip = ip.Next()
	}
	if _, err := h.StartDnsmasq(ctx, lab.DnsmasqConfig{PoolStart: start,
		PoolEnd: end, Leases: leases}); err != nil {
		return err
	}
	pairs := filepath.Join(r.dir, "pairs.csv")
	if err := os.WriteFile(pairs, []byte(csv.String()), 0o644); err != nil {
		return err
	}

	t := s.batchTimeout.String()
	bms, err := r.measure(client, s.runs, true, r.probe, "batch", "-i",
		client.Iface, "-t", t, "--rate", fmt.Sprint(s.batchRate),
		"--concurrency", "4096", "--json", pairs)
	if err != nil {
		return err
	}
	valid, drops := s.leases, 0
	for _, m := range bms {
		v, d := countValid(m.Stdout)
		valid, drops = min(valid, v), max(drops, d)
	}
	if n := serverDrops(h); n > 0 {
		rep.note("dnsmasq's port 67 socket dropped %d requests over the "+
			"batch runs: the server, not the probe, fell behind at "+
			"--rate %d", n, s.batchRate)
	}
	bw := median(walls(bms))
	rep.add(fmt.Sprintf("batch of %d (-t %s, --rate %d): total", s.leases, t,
		s.batchRate), fmt.Sprintf("%.0f ms, %.0f pairs/s, %d/%d valid, "+
		"%d kernel drops (worst run)", bw, float64(s.leases)/(bw/1000),
		valid, s.leases, drops), fmt.Sprintf("%d/%d valid", s.leases,
		s.leases), yes(valid == s.leases))
	rep.add(fmt.Sprintf("batch of %d: peak RSS", s.leases), fmt.Sprintf(
		"%.1f MB", float64(maxRSS(bms))/1024), "< 60 MB",
		yes(maxRSS(bms) < 60*1024))

	n := s.leases
	if s.loopLimit > 0 && s.loopLimit < n {
		n = s.loopLimit
	}
	for _, first := range []bool{false, true} {
		extra := ""
		if first {
			extra = "--first"
		}
		script := fmt.Sprintf(`ok=0; head -n %d | while IFS=, read mac ip; do
  if %s check -i %s -m "$mac" -a "$ip" -t %s %s --json >/dev/null; then
    ok=$((ok+1)); fi; echo $ok; done | tail -n 1`, n, r.probe,
			client.Iface, t, extra)
		lms, err := r.measure(client, s.loopRuns, true, "sh", "-c",
			"tail -n +2 "+pairs+" | { "+script+"; }")
		if err != nil {
			return err
		}
		lw := median(walls(lms)) * float64(s.leases) / float64(n)
		okPairs := strings.TrimSpace(lms[0].Stdout)
		name := "loop of check"
		if first {
			name = "loop of check --first"
		}
		scaled := ""
		if n < s.leases {
			scaled = fmt.Sprintf(", scaled from %d", n)
		}
		rep.add(fmt.Sprintf("%s (-t %s)", name, t), fmt.Sprintf(
			"%.0f ms%s, %s/%d valid, batch is %.0fx faster", lw, scaled,
			okPairs, n, lw/bw), map[bool]string{false: ">= 50x",
			true: ""}[first], map[bool]*bool{false: yes(lw/bw >= 50),
			true: nil}[first])
	}

	return nil
}

// countValid counts the valid documents in batch JSON lines, and reads
// the kernel drops from the summary line.
func countValid(out string) (valid, drops int) {
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, `"verdict":"valid"`) {
			valid++
		}
		var sum struct {
			Summary *struct {
				KernelDrops int `json:"kernel_drops"`
			} `json:"summary"`
		}
		if json.Unmarshal([]byte(line), &sum) == nil && sum.Summary != nil {
			drops = sum.Summary.KernelDrops
		}
	}

	return valid, drops
}

// serverDrops sums the drop counters of UDP sockets bound to port 67 in
// h's namespace (/proc/net/udp, last column).
func serverDrops(h *lab.Host) int {
	out, err := exec.Command("ip", "netns", "exec", h.NS, "cat",
		"/proc/net/udp").Output()
	if err != nil {
		return 0
	}

	total := 0
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) < 13 || !strings.HasSuffix(f[1], ":0043") {
			continue
		}
		var n int
		if _, err := fmt.Sscan(f[len(f)-1], &n); err == nil {
			total += n
		}
	}

	return total
}
