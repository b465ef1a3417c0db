package bench

import (
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"
)

// The plot is hand-written SVG: one row of two panels per workload mode and
// operation (throughput by value size; p50/p99/p99.9 latency by value size,
// log scale), one line per target. Only rows with a fixed value size
// (lmcache, s3) are plotted.

const (
	plotPanelW = 460.0
	plotPanelH = 260.0
	plotMargin = 60.0
)

var plotColors = []string{"#1f77b4", "#d62728", "#7f7f7f", "#2ca02c", "#9467bd", "#ff7f0e"}

type legendEntry struct {
	name, color, dash string
}

type plotSeries struct {
	name  string
	color string
	dash  string
	ys    map[int]float64 // value size -> y
}

// WritePlotFile writes the SVG plot to path.
func (rep *Report) WritePlotFile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("cannot create %s: %w", path, err)
	}
	if err := rep.WritePlot(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// WritePlot writes the SVG plot to w.
func (rep *Report) WritePlot(w io.Writer) error {
	type group struct {
		title string
		rows  []*Row
	}
	var groups []*group
	byTitle := map[string]*group{}
	sizeSet := map[int]bool{}
	targetColor := map[string]string{}
	var targets []string
	for _, r := range rep.Rows {
		if r.Size <= 0 || r.Ops == 0 {
			continue
		}
		title := r.Workload + " " + r.Mode + " " + r.Phase
		g := byTitle[title]
		if g == nil {
			g = &group{title: title}
			byTitle[title] = g
			groups = append(groups, g)
		}
		g.rows = append(g.rows, r)
		sizeSet[r.Size] = true
		if _, ok := targetColor[r.Target]; !ok {
			targetColor[r.Target] = plotColors[len(targets)%len(plotColors)]
			targets = append(targets, r.Target)
		}
	}
	var sizes []int
	for s := range sizeSet {
		sizes = append(sizes, s)
	}
	sort.Ints(sizes)

	var b strings.Builder
	width := 2*(plotPanelW+plotMargin) + plotMargin
	height := float64(max(len(groups), 1))*(plotPanelH+plotMargin*1.5) + plotMargin
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%.0f" height="%.0f" font-family="sans-serif" font-size="11">`+"\n", width, height)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="white"/>`+"\n")
	fmt.Fprintf(&b, `<text x="%.0f" y="20" font-size="14">gpucache-bench: %s, %d round(s), GB/s = 10^9 B/s</text>`+"\n", plotMargin, esc(rep.Host.Hostname), rep.Rounds)
	if len(groups) == 0 {
		fmt.Fprintf(&b, `<text x="%.0f" y="60">no fixed-size rows to plot</text>`+"\n", plotMargin)
	}
	for i, g := range groups {
		y0 := plotMargin + float64(i)*(plotPanelH+plotMargin*1.5)
		var thr, lat []plotSeries
		var legend []legendEntry
		for _, t := range targets {
			st := plotSeries{name: t, color: targetColor[t], ys: map[int]float64{}}
			p := [3]plotSeries{}
			for k, name := range []string{"p50", "p99", "p99.9"} {
				p[k] = plotSeries{name: t + " " + name, color: targetColor[t], dash: []string{"", "6,3", "2,2"}[k], ys: map[int]float64{}}
			}
			for _, r := range g.rows {
				if r.Target != t {
					continue
				}
				st.ys[r.Size] = r.GBps
				p[0].ys[r.Size], p[1].ys[r.Size], p[2].ys[r.Size] = r.P50us/1e3, r.P99us/1e3, r.P999us/1e3
			}
			if len(st.ys) > 0 {
				thr = append(thr, st)
				lat = append(lat, p[:]...)
				legend = append(legend, legendEntry{name: t, color: targetColor[t]})
			}
		}
		latLegend := append(legend[:len(legend):len(legend)],
			legendEntry{"p50", "#444", ""}, legendEntry{"p99", "#444", "6,3"}, legendEntry{"p99.9", "#444", "2,2"})
		plotPanel(&b, plotMargin, y0, g.title+": throughput", "GB/s", false, sizes, thr, legend)
		plotPanel(&b, 2*plotMargin+plotPanelW, y0, g.title+": latency", "ms (log)", true, sizes, lat, latLegend)
	}
	b.WriteString("</svg>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func esc(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;").Replace(s)
}

// plotPanel draws one panel with its top-left corner at (x0, y0).
func plotPanel(b *strings.Builder, x0, y0 float64, title, ylabel string, logY bool, sizes []int, series []plotSeries, legend []legendEntry) {
	fmt.Fprintf(b, `<text x="%.1f" y="%.1f" font-size="12" font-weight="bold">%s</text>`+"\n", x0, y0-8, esc(title))
	fmt.Fprintf(b, `<rect x="%.1f" y="%.1f" width="%.0f" height="%.0f" fill="none" stroke="#888"/>`+"\n", x0, y0, plotPanelW, plotPanelH)
	fmt.Fprintf(b, `<text x="%.1f" y="%.1f" transform="rotate(-90 %.1f %.1f)" text-anchor="middle">%s</text>`+"\n",
		x0-42, y0+plotPanelH/2, x0-42, y0+plotPanelH/2, esc(ylabel))
	// y range
	lo, hi := math.Inf(1), 0.0
	for _, s := range series {
		for _, y := range s.ys {
			if y > 0 {
				lo, hi = math.Min(lo, y), math.Max(hi, y)
			}
		}
	}
	if hi == 0 {
		return
	}
	var ymin, ymax float64
	var ticks []float64
	if logY {
		ymin, ymax = math.Pow(10, math.Floor(math.Log10(lo))), math.Pow(10, math.Ceil(math.Log10(hi)))
		if ymax == ymin {
			ymax *= 10
		}
		for t := ymin; t <= ymax*1.0001; t *= 10 {
			ticks = append(ticks, t)
		}
	} else {
		step := niceStep(hi / 5)
		ymax = math.Ceil(hi*1.05/step) * step
		for t := 0.0; t <= ymax*1.0001; t += step {
			ticks = append(ticks, t)
		}
	}
	yPos := func(y float64) float64 {
		f := y / ymax
		if logY {
			f = (math.Log10(y) - math.Log10(ymin)) / (math.Log10(ymax) - math.Log10(ymin))
		}
		return y0 + plotPanelH - f*plotPanelH
	}
	xPos := func(size int) float64 {
		if len(sizes) < 2 {
			return x0 + plotPanelW/2
		}
		a, z := math.Log2(float64(sizes[0])), math.Log2(float64(sizes[len(sizes)-1]))
		return x0 + 30 + (math.Log2(float64(size))-a)/(z-a)*(plotPanelW-60)
	}
	for _, t := range ticks {
		y := yPos(t)
		fmt.Fprintf(b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#eee"/>`+"\n", x0, y, x0+plotPanelW, y)
		fmt.Fprintf(b, `<text x="%.1f" y="%.1f" text-anchor="end">%s</text>`+"\n", x0-4, y+4, trimFloat(t))
	}
	for _, s := range sizes {
		x := xPos(s)
		fmt.Fprintf(b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#eee"/>`+"\n", x, y0, x, y0+plotPanelH)
		fmt.Fprintf(b, `<text x="%.1f" y="%.1f" text-anchor="middle">%s</text>`+"\n", x, y0+plotPanelH+14, FormatSize(int64(s)))
	}
	for _, s := range series {
		var pts []string
		var dots [][2]float64
		for _, size := range sizes {
			if y, ok := s.ys[size]; ok && y > 0 {
				pts = append(pts, fmt.Sprintf("%.1f,%.1f", xPos(size), yPos(y)))
				dots = append(dots, [2]float64{xPos(size), yPos(y)})
			}
		}
		dash := ""
		if s.dash != "" {
			dash = fmt.Sprintf(` stroke-dasharray="%s"`, s.dash)
		}
		fmt.Fprintf(b, `<polyline points="%s" fill="none" stroke="%s" stroke-width="2"%s/>`+"\n", strings.Join(pts, " "), s.color, dash)
		for _, d := range dots {
			fmt.Fprintf(b, `<circle cx="%.1f" cy="%.1f" r="2.5" fill="%s"/>`+"\n", d[0], d[1], s.color)
		}
	}
	// Legend in the top-left corner, over a white box.
	lx, ly := x0+8, y0+8
	fmt.Fprintf(b, `<rect x="%.1f" y="%.1f" width="92" height="%d" fill="white" fill-opacity="0.85" stroke="#ccc"/>`+"\n", lx, ly, 6+13*len(legend))
	for i, e := range legend {
		y := ly + 14 + float64(i)*13
		dash := ""
		if e.dash != "" {
			dash = fmt.Sprintf(` stroke-dasharray="%s"`, e.dash)
		}
		fmt.Fprintf(b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-width="2"%s/>`+"\n", lx+6, y-4, lx+24, y-4, e.color, dash)
		fmt.Fprintf(b, `<text x="%.1f" y="%.1f">%s</text>`+"\n", lx+28, y, esc(e.name))
	}
}

// niceStep rounds x up to 1, 2 or 5 times a power of ten.
func niceStep(x float64) float64 {
	if x <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(x)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= x {
			return m * p
		}
	}
	return 10 * p
}

func trimFloat(v float64) string {
	if v >= 1 {
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	return fmt.Sprintf("%.3g", v)
}
