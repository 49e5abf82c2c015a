//go:build faults

package main

import (
	"fmt"
	"io"
	"text/tabwriter"
)

// report prints the table of faults and, under it, each phase's notes and
// failed checks. It returns whether every check passed.
func report(out io.Writer, outcomes []*outcome) bool {
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "\nPHASE\tFAULT\tREQUESTS\t2XX\t4XX\t5XX\t503\t"+
		"NO ANSWER\tMAX LATENCY\tRECOVERY\tCHECKS")
	for _, o := range outcomes {
		s := tally(o.recs)
		verdict := "ok"
		if len(o.problems) > 0 {
			verdict = fmt.Sprintf("%d FAILED", len(o.problems))
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\t%d\t%d\t%s\t%s\t%s\n",
			o.phase, o.fault, s.total, s.ok, s.fourXX, s.fiveXX,
			s.byStatus["503"], s.byStatus["no answer"], ms(s.maxLatency),
			recoveryText(o), verdict)
	}
	_ = tw.Flush()

	passed := true
	for _, o := range outcomes {
		fmt.Fprintf(out, "\n%s (%s):\n", o.phase, o.fault)
		for _, k := range allOps {
			fmt.Fprintf(out, "  %-14s %s\n", k, countsText(byOp(o.recs, k)))
		}
		if o.recovery >= 0 {
			fmt.Fprintf(out, "  recovery: %s (%s)\n", ms(o.recovery),
				o.recoveryWhat)
		}
		for _, n := range o.notes {
			fmt.Fprintf(out, "  note: %s\n", n)
		}
		for _, p := range o.problems {
			fmt.Fprintf(out, "  FAIL: %s\n", p)
			passed = false
		}
	}
	return passed
}

func recoveryText(o *outcome) string {
	switch {
	case o.phase == "baseline":
		return "-"
	case o.recovery < 0:
		return "none"
	}
	return ms(o.recovery)
}

func byOp(recs []record, k op) map[string]int {
	m := map[string]int{}
	for _, r := range recs {
		if r.op == k {
			label := statusLabel(r)
			if r.code != "" {
				label += " " + r.code
			}
			m[label]++
		}
	}
	return m
}
