//go:build !fabric

package fabric

import "time"

// Available reports whether this binary has the fabric built in.
const Available = false

// Access flags for Register.
const (
	AccessLocal  = uint64(0)
	AccessRemote = uint64(0)
)

// Endpoint is an RDM endpoint; without the fabric none can be opened.
type Endpoint struct{}

// Info describes what an endpoint opened.
type Info struct {
	Provider string
	Fabric   string
	Domain   string
	Addr     []byte
	VirtAddr bool
	LocalMR  bool
}

// Region is registered memory.
type Region struct {
	Base uintptr
	Len  uint64
	Key  uint64
}

// Peer is a peer's address inserted into the endpoint's address vector.
type Peer uint64

// Open returns ErrUnavailable: the fabric is not built in.
func Open(provider, domain, node string) (*Endpoint, error) { return nil, ErrUnavailable }

func (e *Endpoint) Info() Info { return Info{} }

func (e *Endpoint) Register(base uintptr, n uint64, access uint64) (*Region, error) {
	return nil, ErrUnavailable
}

func (r *Region) Close() {}

func (e *Endpoint) InsertPeer(addr []byte) (Peer, error) { return 0, ErrUnavailable }

func (e *Endpoint) RemovePeer(p Peer) error { return ErrUnavailable }

func (e *Endpoint) Post(write bool, mem *Region, peer Peer, ops []Op, deadline time.Time) *Batch {
	return e.PostWatched(write, mem, peer, ops, deadline, nil, nil)
}

func (e *Endpoint) PostWatched(write bool, mem *Region, peer Peer, ops []Op, deadline time.Time, watch func(*Batch), stop <-chan struct{}) *Batch {
	b := newBatch(0)
	if watch != nil {
		watch(b)
	}
	b.seal(ErrUnavailable)
	return b
}

// Progress does nothing without the fabric.
func (e *Endpoint) Progress() (stop func()) { return func() {} }

func (e *Endpoint) Close() {}
