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
	}
	return "none"
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
	// Size is the value's length in bytes.
	Size int64
	// ExpireAt is the absolute expiry in Unix milliseconds; 0 means none.
	ExpireAt int64
	// ModTime is the last write time in Unix nanoseconds.
	ModTime int64
	// Version is unique per write of this engine: a new Put gets a new one.
	Version uint64
	// Attrs are the protocol's opaque attributes (see PutOptions.Attrs).
	Attrs []byte
	// inline holds the value when it lives in the metadata store.
	inline []byte
	// extents hold the value when it lives in blob segments.
	extents []Extent
}

// Inline reports whether the value lives in the metadata store.
func (m *Meta) Inline() bool { return m.extents == nil }

// Extents returns the blob extents of a non-inline value (read-only).
func (m *Meta) Extents() []Extent { return m.extents }
