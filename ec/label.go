package ec

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"

	"github.com/gpucache/gpucache/nvme"
)

// labelName is the file on every device that records which volume the
// device belongs to and where. It lets Open accept devices in any order
// and recognise a blank replacement.
const labelName = "ec.label"

var labelMagic = [8]byte{'G', 'P', 'C', 'E', 'C', 'L', 'B', '1'}

// Slot states recorded in a label.
const (
	labelActive     = 0 // every shard on the device is trusted
	labelRebuilding = 1 // shards from before the device joined are being rebuilt
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// label is the decoded content of a device label.
type label struct {
	id      [16]byte
	index   int // slot of this device
	devices int // number of slots in the volume
	k, m    int
	state   int
}

// encode writes the label into an Align-sized buffer.
func (l *label) encode(b []byte) {
	clear(b)
	copy(b, labelMagic[:])
	binary.LittleEndian.PutUint32(b[8:], 1) // version
	copy(b[12:28], l.id[:])
	binary.LittleEndian.PutUint32(b[28:], uint32(l.index))
	binary.LittleEndian.PutUint32(b[32:], uint32(l.devices))
	binary.LittleEndian.PutUint32(b[36:], uint32(l.k))
	binary.LittleEndian.PutUint32(b[40:], uint32(l.m))
	binary.LittleEndian.PutUint32(b[44:], uint32(l.state))
	binary.LittleEndian.PutUint32(b[48:], crc32.Checksum(b[:48], castagnoli))
}

var errBadLabel = errors.New("ec: corrupt device label")

func (l *label) decode(b []byte) error {
	if len(b) < 52 || !bytes.Equal(b[:8], labelMagic[:]) {
		return errBadLabel
	}
	if crc32.Checksum(b[:48], castagnoli) != binary.LittleEndian.Uint32(b[48:]) {
		return errBadLabel
	}
	if v := binary.LittleEndian.Uint32(b[8:]); v != 1 {
		return fmt.Errorf("%w: version %d", errBadLabel, v)
	}
	copy(l.id[:], b[12:28])
	l.index = int(binary.LittleEndian.Uint32(b[28:]))
	l.devices = int(binary.LittleEndian.Uint32(b[32:]))
	l.k = int(binary.LittleEndian.Uint32(b[36:]))
	l.m = int(binary.LittleEndian.Uint32(b[40:]))
	l.state = int(binary.LittleEndian.Uint32(b[44:]))
	if l.devices <= 0 || l.index >= l.devices || l.k <= 0 || l.m < 0 || l.k+l.m > l.devices {
		return errBadLabel
	}
	return nil
}

// readLabel returns the device's label, or nvme.ErrNotExist if it has none.
func readLabel(dev nvme.Device) (label, error) {
	var l label
	f, err := dev.Open(labelName)
	if err != nil {
		return l, err
	}
	defer f.Close()
	buf := nvme.AlignedAlloc(nvme.Align)
	defer nvme.AlignedFree(buf)
	if _, err := f.ReadAt(buf, 0); err != nil {
		return l, err
	}
	if err := l.decode(buf); err != nil {
		return l, fmt.Errorf("%s: %w", dev.Name(), err)
	}
	return l, nil
}

// writeLabel durably writes l to dev. An existing label is overwritten in
// place (one aligned block, so no moment without a label); a new one is
// created.
func writeLabel(dev nvme.Device, l label) error {
	buf := nvme.AlignedAlloc(nvme.Align)
	defer nvme.AlignedFree(buf)
	l.encode(buf)
	f, err := dev.Open(labelName)
	if errors.Is(err, nvme.ErrNotExist) {
		f, err = dev.Create(labelName, nvme.Align)
	}
	if err != nil {
		return err
	}
	if _, err := f.WriteAt(buf, 0); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
