//go:build faults

package main

import (
	"bufio"
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

	"github.com/jackc/pgx/v5"
)

// world is what scripts/faults.sh built for this run: a private
// PostgreSQL cluster, a private Redis, and the rampart binary. Everything
// here may be broken on purpose; nothing else may be.
type world struct {
	dir      string
	bin      string
	adminURL string

	pgBindir string
	pgData   string
	pgLog    string
	pgOSUser string

	redisConf string
	redisAddr string

	apiURL     string
	metricsURL string

	svc *exec.Cmd
	// svcDone is closed when the service exits; svcErr is then its
	// exit status.
	svcDone chan struct{}
	svcErr  error
	limits  bool
}

func worldFromEnv() (*world, error) {
	w := &world{
		dir:        os.Getenv("FAULTS_DIR"),
		bin:        os.Getenv("FAULTS_BIN"),
		adminURL:   os.Getenv("FAULTS_ADMIN_URL"),
		pgBindir:   os.Getenv("FAULTS_PG_BINDIR"),
		pgData:     os.Getenv("FAULTS_PG_DATA"),
		pgLog:      os.Getenv("FAULTS_PG_LOG"),
		pgOSUser:   os.Getenv("FAULTS_PG_OSUSER"),
		redisConf:  os.Getenv("FAULTS_REDIS_CONF"),
		redisAddr:  os.Getenv("FAULTS_REDIS_ADDR"),
		apiURL:     "http://" + os.Getenv("RAMPART_LISTEN"),
		metricsURL: "http://" + os.Getenv("RAMPART_METRICS_LISTEN") + "/metrics",
	}
	for name, v := range map[string]string{
		"FAULTS_DIR": w.dir, "FAULTS_BIN": w.bin,
		"FAULTS_ADMIN_URL": w.adminURL, "FAULTS_PG_DATA": w.pgData,
		"FAULTS_REDIS_CONF": w.redisConf, "RAMPART_LISTEN": w.apiURL,
	} {
		if v == "" || v == "http://" {
			return nil, fmt.Errorf("%s is not set: run this through "+
				"scripts/faults.sh (make test-faults)", name)
		}
	}
	return w, nil
}

// startService runs `rampart serve` with rate limits on or off and waits
// until it answers ready.
func (w *world) startService(ctx context.Context, limits bool) error {
	logf, err := os.OpenFile(filepath.Join(w.dir, "serve.log"),
		os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	defer logf.Close()

	cmd := exec.Command(w.bin, "serve")
	cmd.Env = append(os.Environ(), "RAMPART_RATE_LIMITS="+onOff(limits))
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start rampart serve: %w", err)
	}
	pidFile := filepath.Join(w.dir, "serve.pid")
	_ = os.WriteFile(pidFile, []byte(strconv.Itoa(cmd.Process.Pid)), 0o600)
	w.svc, w.limits = cmd, limits
	done := make(chan struct{})
	w.svcDone = done
	go func() { w.svcErr = cmd.Wait(); close(done) }()

	return w.waitReady(ctx, 30*time.Second)
}

func (w *world) waitReady(ctx context.Context, within time.Duration) error {
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		select {
		case <-w.svcDone:
			return fmt.Errorf("rampart serve exited: %v (see serve.log)",
				w.svcErr)
		default:
		}
		if httpStatus(ctx, w.apiURL+"/readyz") == http.StatusOK {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("rampart serve not ready after %s", within)
}

// stopService sends SIGTERM and waits for the drain to finish.
func (w *world) stopService() error {
	if w.svc == nil {
		return nil
	}
	defer func() { w.svc = nil }()
	_ = w.svc.Process.Signal(syscall.SIGTERM)
	select {
	case <-w.svcDone:
		var ee *exec.ExitError
		if w.svcErr != nil && !errors.As(w.svcErr, &ee) {
			return w.svcErr
		}
		return nil
	case <-time.After(30 * time.Second):
		_ = w.svc.Process.Kill()
		<-w.svcDone
		return errors.New("rampart serve did not stop within 30s of SIGTERM")
	}
}

// ensureService leaves a running service alone when its rate limits are
// already as asked, and restarts it otherwise.
func (w *world) ensureService(ctx context.Context, limits bool) error {
	if w.svc != nil && w.limits == limits {
		return nil
	}
	if err := w.stopService(); err != nil {
		return err
	}
	return w.startService(ctx, limits)
}

// pgCtl runs pg_ctl on the private cluster as its OS user.
func (w *world) pgCtl(ctx context.Context, args ...string) error {
	pgctl := filepath.Join(w.pgBindir, "pg_ctl")
	full := append([]string{"-D", w.pgData}, args...)
	var cmd *exec.Cmd
	if w.pgOSUser != "" {
		cmd = exec.CommandContext(ctx, "runuser",
			append([]string{"-u", w.pgOSUser, "--", pgctl}, full...)...)
	} else {
		cmd = exec.CommandContext(ctx, pgctl, full...)
	}
	cmd.Dir = "/"
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("pg_ctl %s: %w: %s", strings.Join(args, " "), err,
			strings.TrimSpace(string(out)))
	}
	return nil
}

// restartPostgres restarts the private cluster in fast mode (open
// transactions are rolled back, connections are cut) and returns once it
// accepts connections again.
func (w *world) restartPostgres(ctx context.Context) error {
	return w.pgCtl(ctx, "-l", w.pgLog, "-m", "fast", "-w", "-t", "60",
		"restart")
}

// admin runs fn on a fresh superuser connection to the private cluster.
func (w *world) admin(ctx context.Context, fn func(*pgx.Conn) error) error {
	conn, err := pgx.Connect(ctx, w.adminURL)
	if err != nil {
		return fmt.Errorf("connect as admin: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	return fn(conn)
}

// redis sends one command to the private Redis and returns its reply line.
func (w *world) redis(cmd string) (string, error) {
	c, err := net.DialTimeout("tcp", w.redisAddr, time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := fmt.Fprintf(c, "%s\r\n", cmd); err != nil {
		return "", err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	return strings.TrimSpace(line), err
}

// stopRedis shuts the private Redis down without saving and waits until
// its port refuses connections.
func (w *world) stopRedis() error {
	_, _ = w.redis("SHUTDOWN NOSAVE")
	for i := 0; i < 50; i++ {
		if _, err := w.redis("PING"); err != nil {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return errors.New("redis still answers after SHUTDOWN NOSAVE")
}

// startRedis starts the private Redis again from its config file.
func (w *world) startRedis(ctx context.Context) error {
	out, err := exec.CommandContext(ctx, "redis-server", w.redisConf).
		CombinedOutput()
	if err != nil {
		return fmt.Errorf("redis-server: %w: %s", err, out)
	}
	for i := 0; i < 50; i++ {
		if reply, err := w.redis("PING"); err == nil && reply == "+PONG" {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return errors.New("redis did not answer PING after restart")
}

// degraded scrapes the metrics listener for rampart_ratelimit_degraded;
// it returns -1 when the scrape fails or the gauge is absent.
func (w *world) degraded(ctx context.Context) float64 {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", w.metricsURL, nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return -1
	}
	defer res.Body.Close()
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), " ")
		if ok && name == "rampart_ratelimit_degraded" {
			v, err := strconv.ParseFloat(value, 64)
			if err == nil {
				return v
			}
		}
	}
	return -1
}

func httpStatus(ctx context.Context, url string) int {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0
	}
	res.Body.Close()
	return res.StatusCode
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}
