package main

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"time"
)

// healthcheck asks the local API whether it is alive, so a container's
// health check needs nothing but the binary.
func healthcheck(args []string) error {
	url := ""
	if len(args) > 0 {
		url = args[0]
	} else {
		listen := os.Getenv("RAMPART_LISTEN")
		if listen == "" {
			listen = ":8080"
		}
		_, port, err := net.SplitHostPort(listen)
		if err != nil {
			return fmt.Errorf("RAMPART_LISTEN: %w", err)
		}
		url = "http://127.0.0.1:" + port + "/healthz"
	}
	c := &http.Client{Timeout: 3 * time.Second}
	res, err := c.Get(url)
	if err != nil {
		return fmt.Errorf("health check: %w", err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("health check: %s answered %d", url, res.StatusCode)
	}
	return nil
}
