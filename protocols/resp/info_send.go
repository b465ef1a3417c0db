package resp

// infoSendProbe adds how values in the DRAM tier go to sockets, and with
// dram-send-by-reference auto what the start-up probe measured.
func (c *conn) infoSendProbe(b []byte) []byte {
	mode := "copy"
	if c.eng.SendsByReference() {
		mode = "by-reference"
	}
	b = appendField(b, "dram_send", mode)
	p := c.eng.SendProbe()
	if p == nil {
		return appendField(b, "dram_send_chosen_by", "config")
	}
	b = appendField(b, "dram_send_chosen_by", "probe")
	if p.Err != nil {
		return appendField(b, "dram_send_probe_error", p.Err.Error())
	}
	gb := float64(p.Bytes) / 1e9
	b = appendField(b, "dram_send_probe_copy_cpu_ms_per_gb", int64(p.CopyCPU.Seconds()*1000/gb))
	b = appendField(b, "dram_send_probe_ref_cpu_ms_per_gb", int64(p.RefCPU.Seconds()*1000/gb))
	b = appendField(b, "dram_send_probe_copy_mb_per_s", int64(gb*1000/p.CopyWall.Seconds()))
	b = appendField(b, "dram_send_probe_ref_mb_per_s", int64(gb*1000/p.RefWall.Seconds()))
	b = appendField(b, "dram_send_probe_kernel", p.Kernel)
	b = appendField(b, "dram_send_probe_transparent_hugepage", p.HugePages)
	return appendField(b, "dram_send_probe_pipe_bytes", p.PipeSize)
}
