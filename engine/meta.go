package engine

// Type is the Redis type of a key's value.
type Type uint8

const (
	TypeNone Type = iota
	TypeString
	TypeHash
	TypeList
	TypeSet
	TypeZSet
	// The types below carry KVRocks's type numbers (its metadata
	// encoding), which are fixed once chosen.
	TypeBitmap      Type = 6
	TypeSortedInt   Type = 7
	TypeStream      Type = 8
	TypeBloom       Type = 9
	TypeJSON        Type = 10
	TypeHyperLogLog Type = 11
)

// String returns the name TYPE answers with.
func (t Type) String() string {
	switch t {
	case TypeString:
		return "string"
	case TypeHash:
		return "hash"
	case TypeList:
		return "list"
	case TypeSet:
		return "set"
	case TypeZSet:
		return "zset"
	case TypeBitmap:
		return "bitmap"
	case TypeSortedInt:
		return "sortedint"
	case TypeBloom:
		return "MBbloom--"
	case TypeHyperLogLog:
		return "hyperloglog"
	case TypeJSON:
		return "ReJSON-RL"
	case TypeStream:
		return "stream"
	}
	return "none"
}

// collection reports whether values of the type are stored as sub-keys.
func (t Type) collection() bool { return t < 64 && collectionTypes>>t&1 != 0 }

// collectionTypes has bit t set for each collection type t (one test on
// the write path, as cheap as the range test it replaced).
const collectionTypes = 1<<TypeHash | 1<<TypeList | 1<<TypeSet | 1<<TypeZSet |
	1<<TypeBitmap | 1<<TypeSortedInt | 1<<TypeStream | 1<<TypeBloom | 1<<TypeHyperLogLog | 1<<TypeJSON

// emptyable reports whether a collection of the type exists with no
// elements (a reserved Bloom filter, an HLL that saw nothing): Size 0
// does not delete it.
//
// NB: a stream stays when its last entry goes (as in Redis): its last ID
// and its consumer groups live on.
func (t Type) emptyable() bool {
	return t == TypeBloom || t == TypeHyperLogLog || t == TypeStream || t == TypeJSON
}

// Extent locates a piece of a value in the blob store.
type Extent struct {
	Segment uint64
	Offset  int64
	Length  int64
	CRC     uint32 // CRC32C (Castagnoli) of the Length bytes
}

// Meta is a key's metadata record.
type Meta struct {
	Type Type
	// Size is a string's length in bytes, or a collection's element count.
	Size int64
	// ExpireAt is the absolute expiry in Unix milliseconds; 0 means none.
	ExpireAt int64
	// ModTime is the last write time in Unix nanoseconds.
	ModTime int64
	// Version is unique in the store and never repeats (version.go): each
	// Put gets a new one; a collection gets one when it is created and
	// keeps it while its elements change, and it names its sub-keys.
	Version uint64
	// Attrs are the protocol's opaque attributes (see PutOptions.Attrs).
	Attrs []byte
	// inline holds the value when it lives in the metadata store.
	inline []byte
	// extents hold the value when it lives in blob segments.
	extents []Extent
	// listHead and listTail bound a list's element indexes: elements sit
	// at [listHead, listTail).
	listHead, listTail uint64
	// stream is a stream's own metadata (stream.go); nil for other types.
	stream *streamMeta
	// fieldTTL is a hash's field-expiry state (hash_ttl.go).
	fieldTTL hashTTL
}

// Inline reports whether the value lives in the metadata store (always
// true of collections, whose elements are sub-keys there).
func (m *Meta) Inline() bool { return m.extents == nil }

// Extents returns the blob extents of a non-inline value (read-only).
func (m *Meta) Extents() []Extent { return m.extents }
