package alert

type subscriber struct {
	ch chan Transition
}

// Subscribe returns a channel that receives every committed transition, in
// commit order, and a function to stop the subscription. A subscriber that
// falls more than buf transitions behind misses transitions (counted in
// Stats.Dropped) rather than slowing evaluation down.
func (e *Engine) Subscribe(buf int) (<-chan Transition, func()) {
	s := &subscriber{ch: make(chan Transition, buf)}
	e.subMu.Lock()
	e.subs[s] = struct{}{}
	e.subMu.Unlock()
	return s.ch, func() {
		e.subMu.Lock()
		if _, ok := e.subs[s]; ok {
			delete(e.subs, s)
			close(s.ch)
		}
		e.subMu.Unlock()
	}
}

func (e *Engine) publish(ts []Transition) {
	e.subMu.Lock()
	defer e.subMu.Unlock()
	for s := range e.subs {
		for _, t := range ts {
			select {
			case s.ch <- t:
			default:
				e.dropped.Add(1)
			}
		}
	}
}
