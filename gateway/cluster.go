package gateway

import (
	"fmt"
	"path/filepath"

	"github.com/gpucache/gpucache/protocols/resp"
)

// clusterNodesFile is where a cluster node keeps its topology
// (persist-cluster-nodes-enabled): nodes.conf in the data directory, as
// KVRocks. "" when cluster mode is off or persistence is disabled.
func clusterNodesFile(cfg *Config, dir string) string {
	if !cfg.Bool("cluster-enabled") || !cfg.Bool("persist-cluster-nodes-enabled") {
		return ""
	}
	return filepath.Join(dir, "nodes.conf")
}

// loadClusterNodes restores the topology a cluster node saved before it
// stopped; without the file the node waits for CLUSTERX SETNODES.
func loadClusterNodes(rs *resp.Server, path string, logf func(string, ...any)) error {
	cs := rs.ClusterState()
	if cs == nil {
		return nil
	}
	if path != "" {
		if err := cs.Load(path); err != nil {
			return fmt.Errorf("cannot load the cluster nodes file: %w", err)
		}
	}
	if v := cs.View(); v.Initialized() {
		logf("cluster mode: topology version %d from %s, node id %s", v.Version, path, v.MyID)
	} else {
		logf("cluster mode: waiting for the topology (CLUSTERX SETNODEID, SETNODES)")
	}
	return nil
}
