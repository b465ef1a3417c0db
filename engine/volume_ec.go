package engine

import (
	"fmt"

	"github.com/gpucache/gpucache/ec"
	"github.com/gpucache/gpucache/nvme"
)

// openVolume opens the device directories and the erasure-coded volume over
// them.
func openVolume(opts Options) (volume, error) {
	k, m := opts.ECData, opts.ECParity
	if k <= 0 {
		k = 1
	}
	devs := make([]nvme.Device, 0, len(opts.Devices))
	closeAll := func() {
		for _, d := range devs {
			d.Close()
		}
	}
	for _, dir := range opts.Devices {
		var d nvme.Device
		var err error
		if opts.OpenDevice != nil {
			d, err = opts.OpenDevice(dir)
		} else {
			d, err = nvme.OpenDir(dir)
		}
		if err != nil {
			closeAll()
			return nil, fmt.Errorf("engine: cannot open device %s: %w", dir, err)
		}
		devs = append(devs, d)
	}
	v, err := ec.Open(devs, k, m)
	if err != nil {
		closeAll()
		return nil, fmt.Errorf("engine: cannot open volume: %w", err)
	}
	return ecVolume{v}, nil
}

type ecVolume struct{ *ec.Volume }

func (v ecVolume) Create(name string, size int64) (volumeFile, error) {
	f, err := v.Volume.Create(name, size)
	if err != nil {
		return nil, err
	}
	return f, nil
}

func (v ecVolume) Open(name string) (volumeFile, error) {
	f, err := v.Volume.Open(name)
	if err != nil {
		return nil, err
	}
	return f, nil
}
