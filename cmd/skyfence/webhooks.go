package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"

	"go.yaml.in/yaml/v3"

	"github.com/skyfence/skyfence/bus"
	"github.com/skyfence/skyfence/webhook"
)

// webhookFile is the --webhooks file: JSON or YAML (docs/OPERATIONS.md,
// "Webhooks").
type webhookFile struct {
	Endpoints []webhookEndpoint `yaml:"endpoints"`
}

type webhookEndpoint struct {
	Name string `yaml:"name"`
	URL  string `yaml:"url"`
	// Secret is the HMAC key itself; SecretEnv names the environment
	// variable that holds it, which keeps it out of the file. One of the
	// two, not both.
	Secret    string   `yaml:"secret"`
	SecretEnv string   `yaml:"secret_env"`
	Types     []string `yaml:"types"`
}

// loadWebhooks reads the endpoints of a --webhooks file; getenv looks up
// secret_env.
func loadWebhooks(file string, getenv func(string) string) ([]webhook.Endpoint, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("--webhooks: %w", err)
	}
	var f webhookFile
	dec := yaml.NewDecoder(bytes.NewReader(b)) // YAML reads JSON too
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("--webhooks %s: %w", file, err)
	}
	if len(f.Endpoints) == 0 {
		return nil, fmt.Errorf("--webhooks %s: no endpoints", file)
	}
	eps := make([]webhook.Endpoint, len(f.Endpoints))
	for i, e := range f.Endpoints {
		secret := e.Secret
		switch {
		case e.Secret != "" && e.SecretEnv != "":
			return nil, fmt.Errorf("--webhooks %s: endpoint %d: secret and secret_env both set; keep one", file, i+1)
		case e.SecretEnv != "":
			if secret = getenv(e.SecretEnv); secret == "" {
				return nil, fmt.Errorf("--webhooks %s: endpoint %d: secret_env %s is not set", file, i+1, e.SecretEnv)
			}
		}
		eps[i] = webhook.Endpoint{Name: e.Name, URL: e.URL, Secret: secret, Types: e.Types}
	}
	return eps, nil
}

// startWebhooks starts delivering the events of b to the endpoints of file,
// and reports their stats with the server's metrics. It returns nil if file
// is "" (no webhooks).
func startWebhooks(file string, b bus.Bus, addMetrics func(func(io.Writer)), log *slog.Logger) (*webhook.Sender, error) {
	if file == "" {
		return nil, nil
	}
	eps, err := loadWebhooks(file, os.Getenv)
	if err != nil {
		return nil, err
	}
	s, err := webhook.Start(b, webhook.Config{Endpoints: eps, Logger: log})
	if err != nil {
		return nil, fmt.Errorf("--webhooks %s: %w", file, err)
	}
	addMetrics(s.WriteMetrics)
	log.Info("serve: webhooks", "endpoints", len(eps))
	return s, nil
}

// stopWebhooks delivers what the webhooks have queued, for at most --drain.
func (s *Server) stopWebhooks() {
	if s.webhooks == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.Drain)
	defer cancel()
	if err := s.webhooks.Close(ctx); err != nil {
		s.log.Warn("serve: webhooks", "err", err)
	}
}
