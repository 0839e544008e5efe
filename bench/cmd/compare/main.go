//go:build unix

// Command compare is `make bench`'s comparison of kiln with its peers:
// for each N it writes a synthetic system of N models (bench.SystemSpec),
// the equivalent CUE package and Helm chart, runs `kiln render` (compile,
// validate, render, write), `cue export` and `helm template` on them a few
// times each, and prints the medians (wall, CPU, peak RSS, objects, bytes)
// with kiln's CPU and memory as multiples of each peer's, measured in the
// same run. kiln runs twice: writing its files, and printing the first
// environment as one YAML stream (--stdout), as the peers print theirs; a
// peer's ratios give both, files / stream. Those renders run without
// kiln's render cache (KILN_CACHE=off), as a first render would.
//
// Then, with -fleet S, the render cache: a repository of S systems of
// -fleet-n models each (bench.WriteFleet) rendered with ./... into an
// empty cache, again after one system changed, and again unchanged, with
// each later render's CPU time as a fraction of the first.
//
//	compare -kiln bin/kiln -cue CUE -helm HELM [-n 10,100,1000,3000] [-runs 3] [-fleet 50 -fleet-n 20]
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/kiln-ml/kiln/bench"
	"github.com/kiln-ml/kiln/compiler"
)

type measure struct {
	wall, cpu time.Duration
	rss       int64 // bytes
	objects   int
	bytes     int64
}

func main() {
	kiln := flag.String("kiln", "bin/kiln", "the kiln binary")
	cue := flag.String("cue", "cue", "the cue binary")
	helm := flag.String("helm", "helm", "the helm binary")
	ns := flag.String("n", "10,100,1000,3000", "numbers of models, comma-separated")
	runs := flag.Int("runs", 3, "runs of each tool per N (the median is shown)")
	envs := flag.Int("envs", 1, "environments of the kiln system (with overrides beyond the first)")
	fleet := flag.Int("fleet", 0, "systems of the render cache's repository (0: no cache figures)")
	fleetN := flag.Int("fleet-n", 20, "models of each system of -fleet")
	flag.Parse()
	// The fleet renders run in the repository's directory: a relative
	// path to kiln must not depend on it.
	if abs, err := filepath.Abs(*kiln); err == nil && strings.ContainsRune(*kiln, filepath.Separator) {
		*kiln = abs
	}
	if *ns != "" {
		if err := run(*kiln, *cue, *helm, *ns, *runs, *envs); err != nil {
			fmt.Fprintln(os.Stderr, "compare:", err)
			os.Exit(1)
		}
	}
	if *fleet > 0 {
		if err := runFleet(*kiln, *fleet, *fleetN, *runs); err != nil {
			fmt.Fprintln(os.Stderr, "compare:", err)
			os.Exit(1)
		}
	}
}

// runFleet prints what the render cache saves on a repository of systems:
// a full render into an empty cache, one after a change to one system
// (its entries are found, the others' are not rebuilt), and one with
// nothing changed.
func runFleet(kiln string, systems, n, runs int) error {
	tmp, err := os.MkdirTemp("", "kiln-bench-fleet-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	repo, cache, out := filepath.Join(tmp, "repo"), filepath.Join(tmp, "cache"), filepath.Join(tmp, "out")
	if err := bench.WriteFleet(repo, systems, n, 1); err != nil {
		return err
	}
	render := func() (measure, error) {
		cmd := exec.Command(kiln, "render", "--out", out, "./...")
		cmd.Dir = repo
		cmd.Env = append(os.Environ(), "KILN_CACHE="+cache)
		m, _, err := timed(cmd, "")
		if err != nil {
			return m, err
		}
		m.objects, m.bytes, err = treeSize(out)
		return m, err
	}
	full, err := median(runs, func() (measure, error) {
		if err := os.RemoveAll(cache); err != nil {
			return measure{}, err
		}
		return render()
	})
	if err != nil {
		return fmt.Errorf("fleet, full render: %w", err)
	}
	// Each run changes another system (and another line of it), so each
	// has exactly one miss.
	changes := 0
	one, err := median(runs, func() (measure, error) {
		changes++
		spec := filepath.Join(repo, filepath.FromSlash(bench.FleetSystemDir(changes%systems)), "system.cue")
		src, err := os.ReadFile(spec)
		if err != nil {
			return measure{}, err
		}
		src = bytes.Replace(src, []byte(`"prep", "--model", "0"`), []byte(fmt.Sprintf(`"prep", "--model", "0-change-%d"`, changes)), 1)
		if err := os.WriteFile(spec, src, 0o644); err != nil {
			return measure{}, err
		}
		return render()
	})
	if err != nil {
		return fmt.Errorf("fleet, one system changed: %w", err)
	}
	none, err := median(runs, render)
	if err != nil {
		return fmt.Errorf("fleet, nothing changed: %w", err)
	}
	fmt.Printf("\nkiln render ./... of %d systems of %d models each, with the render cache; median of %d runs\n\n", systems, n, runs)
	fmt.Println("| render | wall s | CPU s | peak MiB | objects | CPU ×full |")
	fmt.Println("|---|---|---|---|---|---|")
	for _, r := range []struct {
		name string
		m    measure
	}{{"full, empty cache", full}, {"one system changed", one}, {"nothing changed", none}} {
		fmt.Printf("| %s | %.2f | %.2f | %.0f | %d | %.3f |\n", r.name, r.m.wall.Seconds(), r.m.cpu.Seconds(), float64(r.m.rss)/(1<<20), r.m.objects, r.m.cpu.Seconds()/full.cpu.Seconds())
	}
	return nil
}

func run(kiln, cue, helm, ns string, runs, envs int) error {
	var sizes []int
	for _, s := range strings.Split(ns, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			return fmt.Errorf("-n: %q is not a number of models", s)
		}
		sizes = append(sizes, n)
	}
	host, _ := os.Hostname()
	fmt.Printf("kiln vs cue export vs helm template: %s, %d CPUs (GOMAXPROCS %d), %s, %d environment(s), median of %d runs\n\n",
		time.Now().UTC().Format("2006-01-02"), runtime.NumCPU(), runtime.GOMAXPROCS(0), host, envs, runs)
	fmt.Println("| N models | tool | wall s | CPU s | peak MiB | objects | MiB out | CPU kiln/x | RSS kiln/x |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|")
	for _, n := range sizes {
		tmp, err := os.MkdirTemp("", "kiln-bench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		sys, cuePkg, chart := filepath.Join(tmp, "kiln"), filepath.Join(tmp, "cue"), filepath.Join(tmp, "chart")
		// kiln refuses a spec over compiler.MaxSpecBytes (about 5,000
		// models of one environment here, so N=3000 is one system):
		// more models are split into systems of equal size in one
		// repository, rendered at once with ./..., as a repository that
		// large would be.
		systems := 1
		for len(bench.SystemSpec((n+systems-1)/systems, envs)) > compiler.MaxSpecBytes {
			systems++
		}
		kilnArgs := []string{"render", "--out", filepath.Join(tmp, "out"), sys}
		kilnTool := "kiln render"
		if systems == 1 {
			if err := bench.WriteSystem(sys, n, envs); err != nil {
				return err
			}
		} else {
			if err := bench.WriteFleet(sys, systems, (n+systems-1)/systems, envs); err != nil {
				return err
			}
			kilnArgs[len(kilnArgs)-1] = filepath.Join(sys, "...")
			kilnTool = fmt.Sprintf("kiln render (%d systems of %d)", systems, (n+systems-1)/systems)
		}
		if err := writeFiles(cuePkg, map[string]string{"peer.cue": bench.CUEPackage(n)}); err != nil {
			return err
		}
		if err := writeFiles(chart, bench.HelmChart(n)); err != nil {
			return err
		}
		out := filepath.Join(tmp, "out")
		k, err := median(runs, func() (measure, error) {
			if err := os.RemoveAll(out); err != nil {
				return measure{}, err
			}
			cmd := exec.Command(kiln, kilnArgs...)
			cmd.Env = append(os.Environ(), "KILN_CACHE=off")
			m, _, err := timed(cmd, "")
			if err != nil {
				return m, err
			}
			m.objects, m.bytes, err = treeSize(out)
			return m, err
		})
		if err != nil {
			return fmt.Errorf("kiln, N=%d: %w", n, err)
		}
		// The same render printed as one YAML stream (--stdout, of the
		// first environment): what the peers do, without the cost of
		// creating a file per object, which on some file systems is
		// most of a render's system time.
		var st measure
		stream := systems == 1
		if stream {
			st, err = median(runs, func() (measure, error) {
				cmd := exec.Command(kiln, "render", "--stdout", "-e", bench.EnvName(0), sys)
				cmd.Env = append(os.Environ(), "KILN_CACHE=off")
				m, count, err := timed(cmd, "\n# Source: ")
				m.objects = count
				return m, err
			})
			if err != nil {
				return fmt.Errorf("kiln --stdout, N=%d: %w", n, err)
			}
		}
		c, err := median(runs, func() (measure, error) {
			cmd := exec.Command(cue, "export", "--out", "yaml", "-e", "objects", ".")
			cmd.Dir = cuePkg
			m, _, err := timed(cmd, "")
			m.objects = n * bench.PeerObjectsPerModel
			return m, err
		})
		if err != nil {
			return fmt.Errorf("cue, N=%d: %w", n, err)
		}
		h, err := median(runs, func() (measure, error) {
			m, count, err := timed(exec.Command(helm, "template", "synth", chart), "\nkind: ")
			m.objects = count
			return m, err
		})
		if err != nil {
			return fmt.Errorf("helm, N=%d: %w", n, err)
		}
		row := func(tool string, m measure, ratios string) {
			fmt.Printf("| %d | %s | %.2f | %.2f | %.0f | %d | %.1f | %s |\n", n, tool, m.wall.Seconds(), m.cpu.Seconds(),
				float64(m.rss)/(1<<20), m.objects, float64(m.bytes)/(1<<20), ratios)
		}
		// A peer's ratios: kiln writing files, then (after /) kiln
		// printing the stream.
		ratio := func(p measure) string {
			r := func(k measure) string {
				return fmt.Sprintf("%.2f×", k.cpu.Seconds()/p.cpu.Seconds())
			}
			m := func(k measure) string {
				return fmt.Sprintf("%.2f×", float64(k.rss)/float64(p.rss))
			}
			if !stream {
				return r(k) + " | " + m(k)
			}
			return r(k) + " / " + r(st) + " | " + m(k) + " / " + m(st)
		}
		row(kilnTool, k, "— | —")
		if stream {
			row("kiln render --stdout", st, "— | —")
		}
		row("cue export", c, ratio(c))
		row("helm template", h, ratio(h))
	}
	return nil
}

// timed runs cmd and returns its wall and CPU time, peak RSS and the size
// of its stdout, and how often needle (when not "") occurs in stdout.
//
// stdout is counted as it streams, never held: on Linux a child's peak
// RSS (ru_maxrss) includes this process's own peak at the time it
// started the child (Go starts children with the parent's memory shared
// until exec, and exec keeps the larger high-water mark), so holding the
// peers' output here showed as memory of every later command.
func timed(cmd *exec.Cmd, needle string) (measure, int, error) {
	var stderr bytes.Buffer
	stdout := &counter{needle: []byte(needle)}
	cmd.Stdout, cmd.Stderr = stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	m := measure{wall: time.Since(start), bytes: stdout.size}
	if err != nil {
		return m, 0, fmt.Errorf("%s: %v\n%s", strings.Join(cmd.Args, " "), err, stderr.Bytes())
	}
	m.cpu = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		m.rss = int64(ru.Maxrss) * 1024 // kilobytes on Linux
		if runtime.GOOS == "darwin" {
			m.rss = int64(ru.Maxrss)
		}
	}
	return m, stdout.n, nil
}

// counter is a Writer that counts the bytes written and the occurrences
// of needle in them, across writes.
type counter struct {
	needle []byte
	size   int64
	n      int
	tail   []byte // the last len(needle)-1 bytes written
}

func (c *counter) Write(p []byte) (int, error) {
	c.size += int64(len(p))
	if len(c.needle) == 0 {
		return len(p), nil
	}
	buf := append(c.tail, p...)
	c.n += bytes.Count(buf, c.needle)
	// An occurrence ends in p, so none is counted twice: the kept tail
	// is too short to hold one.
	keep := min(len(buf), len(c.needle)-1)
	c.tail = append(c.tail[:0:0], buf[len(buf)-keep:]...)
	return len(p), nil
}

// median runs f runs times and returns the median of each measure.
func median(runs int, f func() (measure, error)) (measure, error) {
	var ms []measure
	for range max(runs, 1) {
		m, err := f()
		if err != nil {
			return m, err
		}
		ms = append(ms, m)
	}
	mid := func(get func(measure) int64) int64 {
		v := make([]int64, len(ms))
		for i, m := range ms {
			v[i] = get(m)
		}
		slices.Sort(v)
		return v[len(v)/2]
	}
	return measure{
		wall:    time.Duration(mid(func(m measure) int64 { return int64(m.wall) })),
		cpu:     time.Duration(mid(func(m measure) int64 { return int64(m.cpu) })),
		rss:     mid(func(m measure) int64 { return m.rss }),
		objects: ms[0].objects,
		bytes:   ms[0].bytes,
	}, nil
}

// treeSize counts the objects (YAML files other than kustomization.yaml)
// and bytes kiln wrote under dir.
func treeSize(dir string) (objects int, size int64, err error) {
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		size += fi.Size()
		if strings.HasSuffix(p, ".yaml") && d.Name() != "kustomization.yaml" && !strings.HasPrefix(d.Name(), "argocd-cm") {
			objects++
		}
		return nil
	})
	return objects, size, err
}

func writeFiles(dir string, files map[string]string) error {
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			return err
		}
	}
	return nil
}
