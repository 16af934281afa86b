package audit

// GatheredEmits is how many Emit calls wait in the open batch.
func GatheredEmits(l *Log) int {
	g := &l.emits
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.open == nil {
		return 0
	}
	return len(g.open.calls)
}
