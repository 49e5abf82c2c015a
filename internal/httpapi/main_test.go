package httpapi_test

import (
	"bytes"
	"fmt"
	"os"
	"sync"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest"

	"github.com/rampart-dev/rampart/internal/logging"
)

// allLogs collects every log line of the package's test run, as the
// service writes them (through the redacting core), so TestMain can grep
// them for the personal data and secrets the tests plant.
var allLogs struct {
	sync.Mutex
	bytes.Buffer
}

type logSink struct{}

func (logSink) Write(p []byte) (int, error) {
	allLogs.Lock()
	defer allLogs.Unlock()
	return allLogs.Write(p)
}

func (logSink) Sync() error { return nil }

// testLogger logs to the test's output and to allLogs, redacted as in
// production.
func testLogger(t *testing.T) *zap.Logger {
	file := zapcore.NewCore(zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig()),
		zapcore.AddSync(logSink{}), zapcore.DebugLevel)
	return zap.New(logging.Redact(zapcore.NewTee(zaptest.NewLogger(t).Core(), file)))
}

// planted are values the tests send as customer data, credentials or
// tokens; none may reach a log line.
var planted = []string{
	"maria@example.test", "Maria Silva", "98765-4321", "joaquina.planted",
	"Rua Plantada", "Avenida Escondida", testPassword, "wrong-password-123",
	"4111 1111 1111 1111", "owner@a.example.test", "victim@example.test",
}

func TestMain(m *testing.M) {
	code := m.Run()
	logs := allLogs.String()
	for _, p := range planted {
		if bytes.Contains([]byte(logs), []byte(p)) {
			fmt.Fprintf(os.Stderr, "FAIL: the logs of this test run contain %q\n", p)
			code = 1
		}
	}
	if code == 0 {
		fmt.Printf("logs of the run: %d bytes, none of %d planted values\n",
			len(logs), len(planted))
	}
	os.Exit(code)
}
