package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// variant is a configuration of the server under test.
type variant string

const (
	// variantFull is the default configuration, every layer on, with
	// rate limits in process (no REDIS_URL) multiplied by -rate-limit-scale:
	// the limiter checks every request as usual, but the load, which
	// comes from one address and a few accounts, is not refused.
	variantFull variant = "full"
	// variantStripped turns off every optional middleware that has a
	// switch: rate limits and attack-signature inspection.
	variantStripped variant = "stripped"
)

// serverEnv is what every server under test gets on top of the bench's
// environment (which carries the keys). Tokens live 15 minutes, the
// maximum, so a run's logins outlast a scenario; the pool is the
// service's default unless -db-max-conns sets it; shutdown does not wait
// for a load balancer that is not there.
//
// The pool is not sized to the requests in flight as pgbench's clients
// are: with 16 connections on a 2-CPU database, 16 backends fought for
// the CPUs and p99 was 3 to 3.4 times p50; with the default 4, requests
// wait their turn for a connection in the server instead and p99 fell to
// 1.7 to 2.2 times p50 at the same throughput (bench/README.md).
func serverEnv(o *options, v variant, listen, metrics string) []string {
	env := []string{
		"DATABASE_URL=" + o.apiURL,
		"RAMPART_ENV=production",
		"RAMPART_LISTEN=" + listen,
		"RAMPART_METRICS_LISTEN=" + metrics,
		"RAMPART_ACCESS_TTL=15m",
		"RAMPART_DRAIN_DELAY=1ms",
	}
	if o.dbMaxConns > 0 {
		env = append(env, "RAMPART_DB_MAX_CONNS="+strconv.Itoa(o.dbMaxConns))
	}
	switch v {
	case variantFull:
		env = append(env, "RAMPART_RATE_LIMITS=on", "RAMPART_INSPECT=on",
			"RAMPART_RATE_LIMIT_SCALE="+strconv.Itoa(o.rateLimitScale))
		env = append(env, o.fullEnv...)
	case variantStripped:
		env = append(env, "RAMPART_RATE_LIMITS=off", "RAMPART_INSPECT=off")
	}
	return env
}

// inherited drops from the bench's environment whatever serverEnv sets,
// and REDIS_URL: both variants limit in process, as the default does.
func inherited(set []string) []string {
	skip := map[string]bool{"REDIS_URL": true, "RAMPART_DB_MAX_CONNS": true}
	for _, kv := range set {
		name, _, _ := strings.Cut(kv, "=")
		skip[name] = true
	}
	var out []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if !skip[name] {
			out = append(out, kv)
		}
	}
	return append(out, set...)
}

type server struct {
	base   string
	cmd    *exec.Cmd
	exited chan error
	log    string
}

// startServer starts `rampart serve` as variant v on free loopback ports
// and waits until it answers ready. Its output goes to logs/<variant>.log,
// replaced on every start.
func startServer(ctx context.Context, o *options, v variant, logs string) (*server, error) {
	ports, err := freePorts(2)
	if err != nil {
		return nil, err
	}
	listen := "127.0.0.1:" + strconv.Itoa(ports[0])
	metrics := "127.0.0.1:" + strconv.Itoa(ports[1])
	logPath := filepath.Join(logs, string(v)+".log")
	f, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer f.Close()

	cmd := exec.Command(o.server, "serve")
	cmd.Env = inherited(serverEnv(o, v, listen, metrics))
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s server: %w", v, err)
	}
	s := &server{base: "http://" + listen, cmd: cmd, exited: make(chan error, 1),
		log: logPath}
	go func() { s.exited <- cmd.Wait() }()
	if err := s.ready(ctx, 30*time.Second); err != nil {
		_ = s.stop()
		return nil, fmt.Errorf("%s server: %w (log: %s)", v, err, logPath)
	}
	return s, nil
}

// ready polls /readyz until it answers 200, the process exits or the
// timeout passes.
func (s *server) ready(ctx context.Context, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	client := &http.Client{Timeout: time.Second}
	for time.Now().Before(deadline) {
		select {
		case err := <-s.exited:
			s.exited <- err
			return fmt.Errorf("exited before it was ready: %v", err)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		resp, err := client.Get(s.base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
	}
	return errors.New("not ready after " + timeout.String())
}

// stop asks the server to shut down and kills it if it has not within 15
// seconds. A server that had already exited crashed during the run.
func (s *server) stop() error {
	select {
	case err := <-s.exited:
		s.exited <- err
		return fmt.Errorf("server exited during the run: %v (log: %s)", err, s.log)
	default:
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
		return nil
	case <-time.After(15 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.exited
		return fmt.Errorf("server did not stop within 15s (log: %s)", s.log)
	}
}

// freePorts returns n loopback ports that were free a moment ago.
func freePorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("find a free port: %w", err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}
