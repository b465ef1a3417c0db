//go:build fabric

package fabric

// add accounts for the next operation and returns its index.
func (b *Batch) add() int {
	b.mu.Lock()
	b.pending++
	i := b.Count
	b.Count++
	b.mu.Unlock()
	return i
}

// complete records the end of operation i.
func (b *Batch) complete(i int, n uint64, err error) {
	b.mu.Lock()
	b.pending--
	if err != nil && b.err == nil {
		b.err = err
	}
	if err == nil {
		b.Bytes += n
		if i >= 0 && i < len(b.ended) {
			b.ended[i] = true
			old := b.prefix
			for b.prefix < len(b.ended) && b.ended[b.prefix] {
				b.prefix++
			}
			if b.prefix > old {
				select {
				case b.notify <- struct{}{}:
				default:
				}
			}
		}
	}
	b.finishLocked()
}
