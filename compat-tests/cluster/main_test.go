// Package cluster_test starts three real gpucache processes in cluster
// mode on loopback ports, sets their topology with the CLUSTERX sequence
// kvrocks-controller sends, and drives them with cluster clients (go-redis
// ClusterClient, redis-cli -c, redis-py RedisCluster, valkey-glide).
package cluster_test

import (
	"testing"

	"github.com/gpucache/gpucache/compat-tests/internal"
)

func TestMain(m *testing.M) { internal.Main(m) }
