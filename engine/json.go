package engine

import (
	"errors"

	"github.com/gpucache/gpucache/internal/jsonpath"
)

// JSON documents are stored as KVRocks stores them: in the key's metadata
// record, which carries the storage format and then the whole encoded
// document (no sub-keys). The record's attributes hold
//
//	format u8 (JSONText or JSONCBOR) | the document (JSON text or CBOR)
//
// and Size is 1 (one document). A command decodes the document, changes
// it and writes it back whole under the key's lock, as KVRocks does; the
// format of each write is the one configured then (json-storage-format),
// and reads take whichever format the record says.

// JSONFormat is a document's storage format (KVRocks's JsonStorageFormat).
type JSONFormat uint8

const (
	JSONText JSONFormat = 0
	JSONCBOR JSONFormat = 1
)

// String is the name JSON.INFO and the config key use.
func (f JSONFormat) String() string {
	switch f {
	case JSONText:
		return "json"
	case JSONCBOR:
		return "cbor"
	}
	return "unknown"
}

var (
	// ErrJSONDepth reports a document nested deeper than
	// jsonpath.MaxDepth after a change.
	ErrJSONDepth = errors.New("engine: JSON document nested too deep")
	// ErrJSONFormat reports a stored document whose format is unknown.
	ErrJSONFormat = errors.New("engine: JSON storage format not supported")
)

// JSONRaw returns JSON key i's format and encoded document; false when
// the key is absent. The bytes are the Txn's copy of the record: they stay
// valid after the Txn, but a JSONPut of the key in the same Txn reuses
// them.
func (t *Txn) JSONRaw(i int) (JSONFormat, []byte, bool, error) {
	ok, err := t.Open(i, TypeJSON)
	if !ok || err != nil {
		return 0, nil, false, err
	}
	a := t.keys[t.slots[i]].m.Attrs
	if len(a) < 1 {
		return 0, nil, false, ErrCorrupt
	}
	return JSONFormat(a[0]), a[1:], true, nil
}

// JSONGet decodes JSON key i's document; false when the key is absent.
// The document is the caller's to change (JSONPut stores it).
func (t *Txn) JSONGet(i int) (*jsonpath.Value, JSONFormat, bool, error) {
	f, raw, ok, err := t.JSONRaw(i)
	if !ok || err != nil {
		return nil, 0, ok, err
	}
	doc, err := DecodeJSON(f, raw)
	return doc, f, err == nil, err
}

// DecodeJSON decodes a stored document.
func DecodeJSON(f JSONFormat, raw []byte) (*jsonpath.Value, error) {
	var doc *jsonpath.Value
	var err error
	switch f {
	case JSONText:
		doc, err = jsonpath.Parse(raw)
	case JSONCBOR:
		doc, err = jsonpath.ParseCBOR(raw)
	default:
		return nil, ErrJSONFormat
	}
	if err != nil {
		return nil, errors.Join(ErrCorrupt, err)
	}
	return doc, nil
}

// JSONPut stores doc as JSON key i in format f, creating the key when it
// is absent (ErrWrongType when it holds another type). An existing key
// keeps its expiry.
func (t *Txn) JSONPut(i int, doc *jsonpath.Value, f JSONFormat) error {
	if jsonpath.Depth(doc) > jsonpath.MaxDepth {
		return ErrJSONDepth
	}
	if f != JSONText && f != JSONCBOR {
		return ErrJSONFormat
	}
	if err := t.Create(i, TypeJSON); err != nil {
		return err
	}
	k := &t.keys[t.slots[i]]
	a := append(k.m.Attrs[:0], byte(f))
	if f == JSONCBOR {
		a = jsonpath.AppendCBOR(a, doc)
	} else {
		a = jsonpath.AppendCompact(a, doc)
	}
	k.m.Attrs, k.m.Size, k.dirty = a, 1, true
	return nil
}
