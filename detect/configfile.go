package detect

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
)

// LoadConfig returns the thresholds an operator's file sets: the defaults,
// with the JSON file's fields decoded over them if file is not empty
// (docs/DETECTION.md lists the fields). An unknown field or an invalid
// threshold is an error naming the file.
func LoadConfig(file string) (Config, error) {
	c := DefaultConfig()
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
