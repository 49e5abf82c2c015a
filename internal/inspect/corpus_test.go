package inspect

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// attacksDir finds ../shared/data/attacks beside the module root, the
// folder that holds go.mod.
func attacksDir() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the test's directory")
		}
		dir = parent
	}
	attacks := filepath.Join(dir, "..", "shared", "data", "attacks")
	if _, err := os.Stat(attacks); err != nil {
		return "", fmt.Errorf("attack corpus absent, corpus tests skipped: %w", err)
	}
	return attacks, nil
}
