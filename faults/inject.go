//go:build faults

package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// recoveryWindow bounds how long a phase waits for the service to serve
// again after its fault ends.
const recoveryWindow = 20 * time.Second

func injectNothing(ctx context.Context, r *runner, o *outcome) error {
	o.faultStart = time.Now()
	o.faultEnd = o.faultStart
	return sleep(ctx, 3*time.Second)
}

// injectPGRestart restarts PostgreSQL under the load; recovery is counted
// from the moment the server accepts connections again until every kind
// of request has been served.
func injectPGRestart(ctx context.Context, r *runner, o *outcome) error {
	if err := sleep(ctx, 2*time.Second); err != nil {
		return err
	}
	o.faultStart = time.Now()
	if err := r.w.restartPostgres(ctx); err != nil {
		return err
	}
	o.faultEnd = time.Now()
	o.notef("postgres was down or restarting for %s", ms(o.faultEnd.Sub(o.faultStart)))
	return r.awaitRecovery(ctx, o, allOps)
}

// injectKills terminates every rampart_api backend every 50 ms for five
// seconds, so transactions die at every step: begin, the role switch, the
// order insert, the lines, commit.
func injectKills(ctx context.Context, r *runner, o *outcome) error {
	if err := sleep(ctx, time.Second); err != nil {
		return err
	}
	var killed, busy int64
	o.faultStart = time.Now()
	err := r.w.admin(ctx, func(c *pgx.Conn) error {
		for time.Since(o.faultStart) < 5*time.Second {
			var k, b int64
			err := c.QueryRow(ctx, `
select count(*), count(*) filter (where state <> 'idle')
from (select state, pg_terminate_backend(pid) as killed
      from pg_stat_activity where usename = 'rampart_api') t
where killed`).Scan(&k, &b)
			if err != nil {
				return fmt.Errorf("terminate backends: %w", err)
			}
			killed, busy = killed+k, busy+b
			if err := sleep(ctx, 50*time.Millisecond); err != nil {
				return err
			}
		}
		return nil
	})
	o.faultEnd = time.Now()
	if err != nil {
		return err
	}
	o.notef("terminated %d rampart_api backends, %d of them not idle "+
		"(in a transaction or a query)", killed, busy)
	return r.awaitRecovery(ctx, o, allOps)
}

// injectRedisDown stops Redis for ten seconds while rate limits are on,
// watching the degraded gauge on the metrics listener throughout.
func injectRedisDown(ctx context.Context, r *runner, o *outcome) error {
	g := &gaugeWatch{}
	watchCtx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	go g.watch(watchCtx, r.w)

	if err := sleep(ctx, 3*time.Second); err != nil {
		return err
	}
	o.faultStart = time.Now()
	if err := r.w.stopRedis(); err != nil {
		return err
	}
	if err := sleep(ctx, 10*time.Second); err != nil {
		return err
	}
	if err := r.w.startRedis(ctx); err != nil {
		return err
	}
	o.faultEnd = time.Now()

	back, ok := g.waitFor(ctx, 0, o.faultEnd, recoveryWindow)
	if ok {
		o.recovery = back.Sub(o.faultEnd)
		o.recoveryWhat = "degraded gauge back to 0"
	}
	if err := sleep(ctx, 2*time.Second); err != nil {
		return err
	}
	stopWatch()
	o.gauge = g.samples()
	return nil
}

// injectAuditFailure makes every insert into the customer-data audit
// trail raise for five seconds, as a full disk or a broken migration
// would: customer reads must fail rather than go unaudited.
func injectAuditFailure(ctx context.Context, r *runner, o *outcome) error {
	if err := sleep(ctx, 2*time.Second); err != nil {
		return err
	}
	const create = `
create function public.faults_refuse_audit() returns trigger
language plpgsql as $$
begin
  raise exception 'faults: audit trail refuses inserts';
end
$$;
create trigger faults_refuse_audit
  before insert on security.customer_access_audit
  for each row execute function public.faults_refuse_audit()`
	const drop = `
drop trigger if exists faults_refuse_audit on security.customer_access_audit;
drop function if exists public.faults_refuse_audit()`

	err := r.w.admin(ctx, func(c *pgx.Conn) error {
		_, err := c.Exec(ctx, create)
		return err
	})
	if err != nil {
		return fmt.Errorf("create failing audit trigger: %w", err)
	}
	o.faultStart = time.Now()
	waitErr := sleep(ctx, 5*time.Second)

	// A read sent after the drop is sent may rightly be served; the
	// window the reads must fail in closes here, not when the drop returns.
	o.strictEnd = time.Now()
	err = r.w.admin(context.WithoutCancel(ctx), func(c *pgx.Conn) error {
		_, err := c.Exec(ctx, drop)
		return err
	})
	o.faultEnd = time.Now()
	if err != nil {
		return fmt.Errorf("drop failing audit trigger: %w", err)
	}
	if waitErr != nil {
		return waitErr
	}
	return r.awaitRecovery(ctx, o, []op{opRead})
}

// awaitRecovery waits until every op in ops has been served by a request
// sent after the fault ended, records how long that took, and lets the
// load run two more seconds.
func (r *runner) awaitRecovery(ctx context.Context, o *outcome, ops []op) error {
	deadline := o.faultEnd.Add(recoveryWindow)
	for time.Now().Before(deadline) {
		if at, ok := r.l.servedAll(o.faultEnd, ops); ok {
			o.recovery = at.Sub(o.faultEnd)
			o.recoveryWhat = "first 2xx of every request kind"
			if len(ops) == 1 {
				o.recoveryWhat = "first 2xx " + string(ops[0])
			}
			break
		}
		if err := sleep(ctx, 50*time.Millisecond); err != nil {
			return err
		}
	}
	return sleep(ctx, 2*time.Second)
}

// servedAll returns when the last of ops was first answered 2xx for a
// request sent at or after since.
func (l *load) servedAll(since time.Time, ops []op) (time.Time, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var last time.Time
	for _, want := range ops {
		var first time.Time
		for _, r := range l.recs {
			if r.op == want && r.ok() && !r.start.Before(since) &&
				(first.IsZero() || r.end.Before(first)) {
				first = r.end
			}
		}
		if first.IsZero() {
			return time.Time{}, false
		}
		if first.After(last) {
			last = first
		}
	}
	return last, true
}

// gaugeWatch samples rampart_ratelimit_degraded every 100 ms.
type gaugeWatch struct {
	mu   sync.Mutex
	seen []sample
}

type sample struct {
	at    time.Time
	value float64
}

func (g *gaugeWatch) watch(ctx context.Context, w *world) {
	for ctx.Err() == nil {
		v := w.degraded(ctx)
		g.mu.Lock()
		g.seen = append(g.seen, sample{time.Now(), v})
		g.mu.Unlock()
		_ = sleep(ctx, 100*time.Millisecond)
	}
}

// waitFor returns the first sample at or after since holding value.
func (g *gaugeWatch) waitFor(ctx context.Context, value float64,
	since time.Time, within time.Duration) (time.Time, bool) {
	deadline := since.Add(within)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		g.mu.Lock()
		for _, s := range g.seen {
			if !s.at.Before(since) && s.value == value {
				g.mu.Unlock()
				return s.at, true
			}
		}
		g.mu.Unlock()
		_ = sleep(ctx, 50*time.Millisecond)
	}
	return time.Time{}, false
}

func (g *gaugeWatch) samples() []sample {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]sample(nil), g.seen...)
}

// injectFreeze stops every process of the cluster with SIGSTOP for eight
// seconds: the server accepts TCP connections but answers nothing, as in
// a network partition or a stalled disk. Only the client side can notice.
func injectFreeze(ctx context.Context, r *runner, o *outcome) error {
	if err := sleep(ctx, 2*time.Second); err != nil {
		return err
	}
	pids, err := clusterPIDs(r.w.pgData)
	if err != nil {
		return err
	}
	o.faultStart = time.Now()
	signalAll(pids, syscall.SIGSTOP)
	waitErr := sleep(ctx, 8*time.Second)
	signalAll(pids, syscall.SIGCONT)
	o.faultEnd = time.Now()
	if waitErr != nil {
		return waitErr
	}
	o.notef("froze %d postgres processes for %s", len(pids),
		ms(o.faultEnd.Sub(o.faultStart)))
	return r.awaitRecovery(ctx, o, allOps)
}

// clusterPIDs returns the postmaster of the cluster in dataDir and its
// children.
func clusterPIDs(dataDir string) ([]int, error) {
	b, err := os.ReadFile(filepath.Join(dataDir, "postmaster.pid"))
	if err != nil {
		return nil, err
	}
	first, _, _ := strings.Cut(string(b), "\n")
	pm, err := strconv.Atoi(strings.TrimSpace(first))
	if err != nil {
		return nil, fmt.Errorf("postmaster.pid: %w", err)
	}
	pids := []int{pm}
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, f := range stats {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: comm may hold spaces, so cut at ')'.
		i := strings.LastIndexByte(string(b), ')')
		fields := strings.Fields(string(b[i+1:]))
		if len(fields) > 1 && fields[1] == strconv.Itoa(pm) {
			pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(f)))
			pids = append(pids, pid)
		}
	}
	return pids, nil
}

func signalAll(pids []int, sig syscall.Signal) {
	for _, pid := range pids {
		_ = syscall.Kill(pid, sig)
	}
}

// injectSIGTERM stops the service with SIGTERM under the load, as a
// rolling deploy does, then starts it again. The checks after the phase
// hold every 2xx answer to what the database kept.
func injectSIGTERM(ctx context.Context, r *runner, o *outcome) error {
	if err := sleep(ctx, 2*time.Second); err != nil {
		return err
	}
	o.faultStart = time.Now()
	if err := r.w.stopService(); err != nil {
		return err
	}
	o.faultEnd = time.Now()
	o.notef("exited %s after SIGTERM (drain delay and in-flight requests)",
		ms(o.faultEnd.Sub(o.faultStart)))
	if o.faultEnd.Sub(o.faultStart) > 25*time.Second {
		o.failf("exit took %s, beyond the 25 s grace period",
			ms(o.faultEnd.Sub(o.faultStart)))
	}
	if err := r.w.startService(ctx, r.w.limits); err != nil {
		return err
	}
	return r.awaitRecovery(ctx, o, allOps)
}
