package inspect

import (
	"syscall"
	"testing"
	"time"
)

func cpuNow() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func TestTmpCost(t *testing.T) {
	in := setup(t)
	r, body := typicalRequest()
	in.Request(r, body)
	for _, c := range []struct{ name string; f func() }{
		{"value short", func() { in.Value("hello world") }},
		{"value empty-ish", func() { in.Value("a") }},
		{"typical", func() { in.Request(r, body) }},
	} {
		n := 200
		s := cpuNow(); w := time.Now()
		for i := 0; i < n; i++ { c.f() }
		t.Logf("%s: cpu %v/op wall %v/op", c.name, (cpuNow()-s)/time.Duration(n), time.Since(w)/time.Duration(n))
	}
	c := collector{}
	c.path(r); c.query(r.URL.RawQuery); c.headers(r.Header); c.body(body)
	t.Logf("typical fields: %d", len(c.fields))
}

func BenchmarkTmpValue(b *testing.B) {
	in := setup(b)
	b.ReportAllocs()
	for b.Loop() { in.Value("a") }
}
