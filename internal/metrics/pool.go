package metrics

import (
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
)

// poolCollector reads pgxpool statistics at scrape time (they are counters
// the pool keeps anyway; reading them costs nothing).
type poolCollector struct{ pool *pgxpool.Pool }

var (
	poolAcquired = prometheus.NewDesc("rampart_db_pool_acquired_connections",
		"Connections currently in use.", nil, nil)
	poolIdle = prometheus.NewDesc("rampart_db_pool_idle_connections",
		"Idle connections.", nil, nil)
	poolTotal = prometheus.NewDesc("rampart_db_pool_connections",
		"Open connections.", nil, nil)
	poolMax = prometheus.NewDesc("rampart_db_pool_max_connections",
		"Pool size limit.", nil, nil)
	poolAcquires = prometheus.NewDesc("rampart_db_pool_acquires_total",
		"Connections acquired.", nil, nil)
	poolEmpty = prometheus.NewDesc("rampart_db_pool_empty_acquires_total",
		"Acquires that had to wait for a connection.", nil, nil)
	poolWait = prometheus.NewDesc("rampart_db_pool_acquire_wait_seconds_total",
		"Time spent waiting for connections.", nil, nil)
)

func (c poolCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{poolAcquired, poolIdle, poolTotal,
		poolMax, poolAcquires, poolEmpty, poolWait} {
		ch <- d
	}
}

func (c poolCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.pool.Stat()
	ch <- prometheus.MustNewConstMetric(poolAcquired, prometheus.GaugeValue, float64(s.AcquiredConns()))
	ch <- prometheus.MustNewConstMetric(poolIdle, prometheus.GaugeValue, float64(s.IdleConns()))
	ch <- prometheus.MustNewConstMetric(poolTotal, prometheus.GaugeValue, float64(s.TotalConns()))
	ch <- prometheus.MustNewConstMetric(poolMax, prometheus.GaugeValue, float64(s.MaxConns()))
	ch <- prometheus.MustNewConstMetric(poolAcquires, prometheus.CounterValue, float64(s.AcquireCount()))
	ch <- prometheus.MustNewConstMetric(poolEmpty, prometheus.CounterValue, float64(s.EmptyAcquireCount()))
	ch <- prometheus.MustNewConstMetric(poolWait, prometheus.CounterValue, s.AcquireDuration().Seconds())
}
