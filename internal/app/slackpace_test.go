package app

import (
	"github.com/queuewatch/queuewatch/internal/notify"
	"github.com/queuewatch/queuewatch/internal/notify/slack"
)

// liftSlackPacing stops the Slack notifiers of list from pacing their own
// requests (about one post a second per channel), for tests whose fake
// Slack is told not to enforce Slack's limits.
func liftSlackPacing(list []notify.Destination) {
	for _, d := range list {
		if n, ok := d.Notifier.(*slack.Notifier); ok {
			n.SetPacing(0, 0, 0, 0)
		}
	}
}
