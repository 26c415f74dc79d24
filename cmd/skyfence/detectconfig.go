package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"

	"github.com/skyfence/skyfence/detect"
)

// loadDetectConfig returns detection's thresholds: the defaults, with a JSON
// file's fields decoded over them if file is not empty (docs/DETECTION.md
// lists the fields). An unknown field or an invalid threshold is an error
// naming the file.
func loadDetectConfig(file string) (detect.Config, error) {
	c := detect.DefaultConfig()
	if file == "" {
		return c, nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return c, err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return c, fmt.Errorf("%s: %w", file, err)
	}
	if err := c.Validate(); err != nil {
		return c, fmt.Errorf("%s: %w", file, err)
	}
	return c, nil
}
