// Package alert holds the per-series alert state machine and the sharded
// engine that feeds samples through it and commits the resulting transitions.
package alert
