package resp

// Reply error texts of the BLOB.* commands, worded exactly as Valkey's
// large-object module words them (clients match on them).
const (
	errBlobUnavailable   = "ERR EFA unavailable on this instance"
	errBlobBadHex        = "ERR invalid peer address hex"
	errBlobEmptyAddr     = "ERR peer address must not be empty"
	errBlobTriples       = "ERR address args must be rkey, addr, len triples"
	errBlobTooMany       = "ERR too many addresses (max 256)"
	errBlobRKey          = "ERR invalid rkey"
	errBlobRemoteAddr    = "ERR invalid remote_addr"
	errBlobAddrLen       = "ERR invalid addr len"
	errBlobShort         = "ERR client address space smaller than object length"
	errBlobLen           = "ERR invalid len"
	errBlobMaxSize       = "ERR max object size exceeded"
	errBlobNoSession     = "ERR no DMA session (call BLOB.HELLO first)"
	errBlobSessionExists = "ERR DMA session already established (one BLOB.HELLO per connection)"
	errBlobNotFound      = "ERR not found"
	errBlobInfoField     = "ERR invalid information value"
	errBlobZero          = "ERR object length must be > 0"
	errBlobWrite         = "ERR EFA write"
	errBlobRead          = "ERR EFA read"
	errBlobSession       = "ERR session create"
	// gpucache's own, where the reference has no word for it.
	errBlobTooManySessions = "ERR max number of fabric sessions reached (fabric-max-sessions)"
	errBlobBusy            = "BUSY too many fabric transfers in flight (fabric-max-transfers), try again later"
)

// blobWrongArgs is the reference's arity error, naming the command as
// the client spelled it in upper case.
func blobWrongArgs(name string) string {
	return "ERR wrong number of arguments for '" + name + "' command"
}
