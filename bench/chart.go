package main

import (
	"fmt"
	"image/color"
	"os"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// bar is one bar of a scenario's panel.
type bar struct {
	value float64
	color color.Color
}

var (
	blue        = color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff}
	lightBlue   = color.RGBA{R: 0x9e, G: 0xc9, B: 0xe8, A: 0xff}
	orange      = color.RGBA{R: 0xff, G: 0x7f, B: 0x0e, A: 0xff}
	lightOrange = color.RGBA{R: 0xff, G: 0xc8, B: 0x96, A: 0xff}
	grey        = color.RGBA{R: 0x8c, G: 0x8c, B: 0x8c, A: 0xff}
	lightGrey   = color.RGBA{R: 0xc8, G: 0xc8, B: 0xc8, A: 0xff}
)

// writeChart draws the successful requests per second of every scenario,
// one panel each (their scales differ a hundredfold), in three groups:
// full, stripped and pgbench; a compared run has two bars a group, the
// base run's (light) and this run's (dark).
func writeChart(path string, r *report, entries []*entry, compared bool) error {
	es := httpEntries(entries)
	if len(es) == 0 {
		return nil
	}
	title := fmt.Sprintf("Rampart: successful requests (pgbench: transactions) "+
		"per second, %d in flight, %s each", r.Options.concurrency,
		r.Options.duration)
	if compared {
		title = fmt.Sprintf("Rampart at scale: per second, %d in flight, %s "+
			"each; light: the base run, dark: at scale", r.Options.concurrency,
			r.Options.duration)
	}
	var plots []*plot.Plot
	for _, e := range es {
		bars := runBars(e)
		if compared {
			bars = scaleBars(e)
		}
		p, err := panel(e.Name, []string{"full", "stripped", "pgbench"}, bars)
		if err != nil {
			return err
		}
		plots = append(plots, p)
	}
	plots[0].Y.Label.Text = "per second"
	return savePanels(path, title, plots)
}

func runBars(e *entry) [][]bar {
	return [][]bar{
		{{e.RPS, blue}},
		{{e.Stripped.RPS, lightBlue}},
		{{deref(e.PgbenchTPS), orange}},
	}
}

func scaleBars(e *entry) [][]bar {
	b := e.Base
	if b == nil {
		b = &figures{}
	}
	return [][]bar{
		{{deref(b.RPS), lightBlue}, {e.RPS, blue}},
		{{deref(b.StrippedRPS), lightGrey}, {e.Stripped.RPS, grey}},
		{{deref(b.PgbenchTPS), lightOrange}, {deref(e.PgbenchTPS), orange}},
	}
}

// panel is one scenario: a group of bars for each name in groups, each
// bar labelled with its value.
func panel(title string, groups []string, bars [][]bar) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = title
	p.Y.Min = 0
	p.Y.Tick.Marker = wholeTicks{}
	for g, row := range bars {
		w := barWidth(len(row))
		for i, b := range row {
			offset := w * vg.Length(float64(i)-float64(len(row)-1)/2)
			if err := addBar(p, float64(g), offset, w, b); err != nil {
				return nil, err
			}
		}
	}
	p.NominalX(groups...)
	p.Y.Max = max(p.Y.Max*1.15, 1)
	return p, nil
}

func addBar(p *plot.Plot, x float64, offset, width vg.Length, b bar) error {
	bc, err := plotter.NewBarChart(plotter.Values{b.value}, width)
	if err != nil {
		return err
	}
	bc.Color, bc.LineStyle.Width = b.color, 0
	bc.XMin, bc.Offset = x, offset
	labels, err := plotter.NewLabels(plotter.XYLabels{
		XYs:    plotter.XYs{{X: x, Y: b.value}},
		Labels: []string{fmt.Sprintf("%.0f", b.value)},
	})
	if err != nil {
		return err
	}
	labels.TextStyle[0].Font.Size = vg.Points(7)
	labels.TextStyle[0].XAlign = text.XCenter
	labels.Offset = vg.Point{X: offset, Y: vg.Points(2)}
	p.Add(bc, labels)
	return nil
}

// wholeTicks are the default ticks, labelled without decimals.
type wholeTicks struct{}

func (wholeTicks) Ticks(min, max float64) []plot.Tick {
	ts := plot.DefaultTicks{}.Ticks(min, max)
	for i := range ts {
		if ts[i].Label != "" {
			ts[i].Label = strconv.FormatFloat(ts[i].Value, 'f', 0, 64)
		}
	}
	return ts
}

// savePanels lays the panels out side by side under a title and writes
// them as a PNG.
func savePanels(path, title string, plots []*plot.Plot) error {
	const titleHeight = vg.Length(28)
	w, h := max(vg.Length(len(plots))*2.4, 8)*vg.Inch, 4.2*vg.Inch
	img := vgimg.New(w, h)
	dc := draw.New(img)

	head := draw.Crop(dc, 0, 0, h-titleHeight, 0)
	style := text.Style{Color: color.Black, XAlign: text.XCenter,
		YAlign: text.YCenter, Handler: plot.DefaultTextHandler,
		Font: font.From(plot.DefaultFont, vg.Points(11))}
	head.FillText(style, vg.Point{X: w / 2, Y: h - titleHeight/2}, title)

	body := draw.Crop(dc, 0, 0, 0, -titleHeight)
	tiles := draw.Tiles{Rows: 1, Cols: len(plots), PadX: vg.Millimeter * 4,
		PadLeft: vg.Millimeter * 2, PadRight: vg.Millimeter * 4,
		PadBottom: vg.Millimeter * 2, PadTop: vg.Millimeter * 2}
	canvases := plot.Align([][]*plot.Plot{plots}, tiles, body)
	for i, p := range plots {
		p.Draw(canvases[0][i])
	}

	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// barWidth fits n bars in a group.
func barWidth(n int) vg.Length {
	return vg.Points(min(24, 34/float64(n)))
}

func deref(v *float64) float64 {
	if v == nil {
		return 0
	}
	return *v
}
