package jsonpath

// Replace puts v where n is and returns the document's root (v itself
// when n is the root).
func Replace(root *Value, n Node, v *Value) *Value {
	switch {
	case n.Parent == nil:
		return v
	case n.Parent.Kind == Array:
		n.Parent.A[n.Index] = v
	default:
		n.Parent.Put(n.Key, v)
	}
	return root
}

// Delete removes the nodes from root and returns how many it removed. A
// node under another removed node counts with it; the root is never
// removed (callers delete the key instead).
func Delete(root *Value, nodes []Node) int {
	if len(nodes) == 0 {
		return 0
	}
	doomed := make(map[*Value]bool, len(nodes))
	for _, n := range nodes {
		if n.Parent != nil {
			doomed[n.V] = true
		}
	}
	return prune(root, doomed, 0)
}

func prune(v *Value, doomed map[*Value]bool, level int) int {
	if level > MaxDepth {
		return 0
	}
	removed := 0
	switch v.Kind {
	case Array:
		keep := v.A[:0]
		for _, e := range v.A {
			if doomed[e] {
				removed++
				continue
			}
			removed += prune(e, doomed, level+1)
			keep = append(keep, e)
		}
		clear(v.A[len(keep):])
		v.A = keep
	case Object:
		keep := v.O[:0]
		for _, m := range v.O {
			if doomed[m.Val] {
				removed++
				continue
			}
			removed += prune(m.Val, doomed, level+1)
			keep = append(keep, m)
		}
		clear(v.O[len(keep):])
		v.O = keep
	}
	return removed
}

// Parent compiles the path without its last segment and returns it with
// the member name that segment selects; ok is false unless the path is
// static and ends in a name (the only place a set may create a member).
func (p *Path) Parent() (parent *Path, name string, ok bool) {
	if !p.Static() || len(p.segs) == 0 {
		return nil, "", false
	}
	last := p.segs[len(p.segs)-1].sels[0]
	if last.kind != selName {
		return nil, "", false
	}
	return &Path{origin: p.origin, legacy: p.legacy, segs: p.segs[:len(p.segs)-1]}, last.name, true
}

// Depth is v's nesting depth (a scalar is 0, [] is 1).
func Depth(v *Value) int {
	d := 0
	switch v.Kind {
	case Array:
		for _, e := range v.A {
			d = max(d, Depth(e))
		}
		return d + 1
	case Object:
		for _, m := range v.O {
			d = max(d, Depth(m.Val))
		}
		return d + 1
	}
	return 0
}

// MergePatch applies patch to target as RFC 7396 says and returns the
// result: an object patch merges member by member (null removes), any
// other patch replaces.
func MergePatch(target, patch *Value) *Value {
	if patch.Kind != Object {
		return patch.Clone()
	}
	if target == nil || target.Kind != Object {
		target = NewObject()
	}
	for _, m := range patch.O {
		if m.Val.Kind == Null {
			target.Remove(m.Key)
			continue
		}
		target.Put(m.Key, MergePatch(target.Get(m.Key), m.Val))
	}
	return target
}
