package engine

// volume is what the blob store needs from storage: named segment files
// with stripe-aligned vectored writes and aligned reads. ec.Volume provides
// it over k+m devices (a plain pass-through for one device).
type volume interface {
	StripeWidth() int64
	Create(name string, size int64) (volumeFile, error)
	Open(name string) (volumeFile, error)
	Remove(name string) error
	List() ([]string, error)
	Close() error
}

type volumeFile interface {
	WritevAt(bufs [][]byte, off int64) (int64, error)
	ReadvAt(bufs [][]byte, off int64) (int64, error)
	Sync() error
	Size() int64
	Close() error
}
