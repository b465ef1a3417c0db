package fastpath

import "time"

// Config is the fast path's share of the server configuration.
type Config struct {
	// Provider is fabric-provider: "verbs;ofi_rxm", "efa", "tcp;ofi_rxm",
	// "tcp", "shm". Empty: no fabric.
	Provider string
	// Interfaces is fabric-interfaces: the fabric domains (for tcp and
	// verbs, interface or device names such as "lo") to open, one
	// endpoint each. Empty: the provider's first domain.
	Interfaces []string
	// Node is the address the endpoints bind to (tcp: an IP address of
	// the interface). Empty: the provider's choice.
	Node string
	// MaxSessions is fabric-max-sessions: BLOB.HELLO beyond it is refused.
	MaxSessions int
	// MaxTransfers is fabric-max-transfers: BLOB.GET/SET moving bytes at
	// once; more wait for a slot (backpressure) up to Timeout.
	MaxTransfers int
	// Timeout is fabric-transfer-timeout: how long one command's
	// transfer may take before it fails.
	Timeout time.Duration
}

func (c Config) withDefaults() Config {
	if c.MaxSessions <= 0 {
		c.MaxSessions = 1024
	}
	if c.MaxTransfers <= 0 {
		c.MaxTransfers = 64
	}
	if c.Timeout <= 0 {
		c.Timeout = 30 * time.Second
	}
	return c
}
