// Package deploy_test checks what users run gpucache with besides the
// binary: the container files (Dockerfile, docker-compose.yml, the
// Prometheus and Grafana provisioning under deploy/) against the real
// server. No Docker engine is needed: the compose file is validated by
// docker-compose itself, the Dockerfile by a Dockerfile linter, and the
// Grafana dashboard's queries against the /metrics of a running server.
package deploy_test

import (
	"testing"

	"github.com/gpucache/gpucache/compat-tests/internal"
)

func TestMain(m *testing.M) { internal.Main(m) }
