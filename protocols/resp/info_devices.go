package resp

import (
	"strconv"
	"strings"
	"time"

	"github.com/gpucache/gpucache/ec"
)

// infoDevices writes the erasure-coded volume's health: layout, whether it
// is degraded, one line per device slot, the volume's error and repair
// counters, and scrub and rebuild progress. Field names follow Redis's
// INFO: lower_case:value, and name=value lists for per-item lines
// (like "db0:keys=..." or "slave0:ip=...").
func (c *conn) infoDevices(b []byte) []byte {
	b = append(b, "# Devices\r\n"...)
	st := c.eng.Devices()
	if st == nil {
		return appendField(b, "ec_enabled", 0)
	}
	return appendDevices(b, st)
}

// appendDevices formats st (see infoDevices).
func appendDevices(b []byte, st *ec.Status) []byte {
	b = appendField(b, "ec_enabled", 1)
	b = appendField(b, "ec_layout", strconv.Itoa(st.K)+"+"+strconv.Itoa(st.M))
	b = appendField(b, "ec_data_shards", st.K)
	b = appendField(b, "ec_parity_shards", st.M)
	b = appendField(b, "ec_volume_id", st.ID)
	b = appendField(b, "ec_degraded", yesNo(st.Degraded))
	b = appendField(b, "ec_devices", len(st.Devices))
	ok := 0
	for _, d := range st.Devices {
		if d.State == ec.DeviceOK {
			ok++
		}
	}
	b = appendField(b, "ec_devices_ok", ok)
	for _, d := range st.Devices {
		b = append(b, "device"...)
		b = strconv.AppendInt(b, int64(d.Slot), 10)
		b = append(b, ":name="...)
		b = append(b, oneLine(d.Name)...)
		b = append(b, ",state="...)
		b = append(b, d.State.String()...)
		b = appendKV(b, "reads", d.Health.Reads)
		b = appendKV(b, "writes", d.Health.Writes)
		b = appendKV(b, "read_errors", d.Health.ReadErrors)
		b = appendKV(b, "write_errors", d.Health.WriteErrors)
		b = appendKV(b, "bytes_read", d.Health.BytesRead)
		b = appendKV(b, "bytes_written", d.Health.BytesWritten)
		b = append(b, "\r\n"...)
	}
	b = appendField(b, "ec_read_errors", st.ReadErrors)
	b = appendField(b, "ec_write_errors", st.WriteErrors)
	b = appendField(b, "ec_checksum_errors", st.ChecksumErrors)
	b = appendField(b, "ec_reconstructed", st.Reconstructed)
	b = appendField(b, "ec_unrecoverable", st.Unrecoverable)
	b = appendField(b, "ec_read_repaired", st.ReadRepaired)
	b = appendProgress(b, "scrub_", st.Scrub, false)
	b = appendProgress(b, "rebuild_", st.Rebuild, true)
	return b
}

// appendProgress writes a scrub's or rebuild's progress; times are Unix
// seconds, 0 when not yet started or ended.
func appendProgress(b []byte, prefix string, p ec.Progress, slot bool) []byte {
	running := 0
	if p.Running {
		running = 1
	}
	b = appendField(b, prefix+"running", running)
	if slot {
		b = appendField(b, prefix+"slot", p.Slot)
	}
	b = appendField(b, prefix+"files", p.Files)
	b = appendField(b, prefix+"files_done", p.FilesDone)
	b = appendField(b, prefix+"bytes", p.Bytes)
	b = appendField(b, prefix+"repaired", p.Repaired)
	b = appendField(b, prefix+"lost", p.Lost)
	b = appendField(b, prefix+"started", unixOrZero(p.Started))
	b = appendField(b, prefix+"ended", unixOrZero(p.Ended))
	return appendField(b, prefix+"last_error", oneLine(p.Err))
}

// maxInfoText bounds a free-form value (a scrub's joined errors can run
// to megabytes).
const maxInfoText = 512

// oneLine keeps a free-form value from breaking INFO's line structure or
// flooding it.
func oneLine(s string) string {
	if len(s) > maxInfoText {
		s = s[:maxInfoText] + "..."
	}
	return strings.NewReplacer("\r", " ", "\n", " ").Replace(s)
}

func appendKV(b []byte, name string, v int64) []byte {
	b = append(b, ',')
	b = append(b, name...)
	b = append(b, '=')
	return strconv.AppendInt(b, v, 10)
}

func yesNo(v bool) string {
	if v {
		return "yes"
	}
	return "no"
}

func unixOrZero(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()
}
