package stream

import (
	"context"
	"fmt"

	"github.com/queuewatch/queuewatch/internal/genesys"
)

// sync assigns the queue ids to slots, one channel each: queues that are
// gone leave their slot, new ones fill the first slot with room, and new
// slots are started when none has room, up to genesys.MaxChannels. Slots
// left empty are stopped and their channels kept for reuse.
func (s *Streamer) sync(ctx context.Context, ids []string) {
	want := make(map[string]bool, len(ids))
	for _, id := range ids {
		want[id] = true
	}
	s.mu.Lock()
	changed := map[*slot]bool{}
	removed := 0
	for id, sl := range s.where {
		if !want[id] {
			delete(s.where, id)
			sl.remove(id)
			changed[sl] = true
			s.acc.Forget(id)
			removed++
		}
	}
	var fresh []*slot
	unstreamed, added := 0, 0
	for _, id := range ids {
		if _, ok := s.where[id]; ok {
			continue
		}
		target := s.slotWithRoomLocked()
		if target == nil && len(s.slots) < genesys.MaxChannels {
			target = newSlot(s)
			s.slots = append(s.slots, target)
			fresh = append(fresh, target)
		}
		if target == nil {
			unstreamed++
			continue
		}
		target.add(id)
		s.where[id] = target
		changed[target] = true
		added++
	}
	var gone []*slot
	kept := s.slots[:0]
	for _, sl := range s.slots {
		if sl.size() == 0 {
			gone = append(gone, sl)
		} else {
			kept = append(kept, sl)
		}
	}
	s.slots = kept
	warn := unstreamed > 0 && s.unstreamed != unstreamed
	s.unstreamed = unstreamed
	channels := len(s.slots)
	s.mu.Unlock()

	for sl := range changed {
		sl.bump()
	}
	for _, sl := range gone {
		sl.stop()
		if ch := sl.channel(); ch.ID != "" {
			s.returnChannel(ch)
		}
	}
	for _, sl := range fresh {
		sl.start(ctx)
	}
	if warn {
		s.log.Error("more queues than 20 channels hold; the rest are only polled",
			"unstreamed", unstreamed, "queues_per_channel", s.opts.QueuesPerChannel)
	}
	if added+removed > 0 {
		s.log.Info("stream queues changed", "added", added, "removed", removed, "channels", channels)
	}
	s.updateHealth()
}

// slotWithRoomLocked returns the first slot with room for a queue.
func (s *Streamer) slotWithRoomLocked() *slot {
	for _, sl := range s.slots {
		if sl.size() < s.opts.QueuesPerChannel {
			return sl
		}
	}
	return nil
}

// stopAll stops every slot and forgets the assignment.
func (s *Streamer) stopAll() {
	s.mu.Lock()
	slots := s.slots
	s.slots, s.where, s.unstreamed = nil, map[string]*slot{}, 0
	s.mu.Unlock()
	for _, sl := range slots {
		sl.stop()
	}
}

// loadPool gathers the channels to reuse: those of Options.Channels and
// those the OAuth client already has (their ids are listed for this
// token's channels only).
func (s *Streamer) loadPool(ctx context.Context) {
	seen := map[string]bool{}
	var pool []genesys.Channel
	add := func(ch genesys.Channel) {
		if ch.ID != "" && ch.ConnectURI != "" && !seen[ch.ID] {
			seen[ch.ID] = true
			pool = append(pool, ch)
		}
	}
	for _, ch := range s.opts.Channels {
		add(ch)
	}
	listed, err := s.client.ListChannels(ctx, "oauthclient")
	if err != nil {
		if ctx.Err() == nil {
			s.log.Warn("listing notification channels failed; new ones will be created", "err", err)
		}
	}
	for _, ch := range listed {
		add(ch)
	}
	s.mu.Lock()
	s.pool = pool
	s.mu.Unlock()
	s.log.Info("notification channels to reuse", "count", len(pool), "listed", len(listed))
}

// returnChannel puts a channel back in the pool.
func (s *Streamer) returnChannel(ch genesys.Channel) {
	s.mu.Lock()
	s.pool = append(s.pool, ch)
	s.mu.Unlock()
}

// takeChannel returns a channel from the pool that still exists, or a new
// one, and whether it was reused.
func (s *Streamer) takeChannel(ctx context.Context) (genesys.Channel, bool, error) {
	for {
		s.mu.Lock()
		if len(s.pool) == 0 {
			s.mu.Unlock()
			break
		}
		ch := s.pool[0]
		s.pool = s.pool[1:]
		s.mu.Unlock()
		ok, err := s.client.ChannelExists(ctx, ch.ID)
		if err != nil {
			s.returnChannel(ch)
			return genesys.Channel{}, false, fmt.Errorf("stream: checking channel %s: %w", ch.ID, err)
		}
		if ok {
			return ch, true, nil
		}
		s.log.Info("notification channel no longer exists", "channel", ch.ID)
	}
	ch, err := s.client.CreateChannel(ctx)
	if err != nil {
		return genesys.Channel{}, false, fmt.Errorf("stream: %w", err)
	}
	return ch, false, nil
}
