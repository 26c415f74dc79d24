package main

import (
	"context"
	"fmt"
)

func runBench(ctx context.Context, e env) error {
	return fmt.Errorf("not yet")
}
