package engine

import "sync"

// typedPool is a sync.Pool of *T.
type typedPool[T any] struct{ p sync.Pool }

func ptrPool[T any](newT func() *T) *typedPool[T] {
	return &typedPool[T]{p: sync.Pool{New: func() any { return newT() }}}
}

func (p *typedPool[T]) Get() *T  { return p.p.Get().(*T) }
func (p *typedPool[T]) Put(x *T) { p.p.Put(x) }
