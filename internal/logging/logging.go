// Package logging builds the service's zap logger and keeps PII and
// secrets out of every line it writes.
//
// Values are hidden two ways. By name: a field (or a key nested in an
// object, map or struct) called email, phone, name, address, password,
// token, cookie, api_key, card, cvv, ssn, reason and the like is written as
// "[redacted]", whatever its type. By shape: in every string, the message
// and error texts included, email addresses, card numbers, phone numbers,
// JWTs, refresh and bearer tokens and URL passwords are replaced by
// markers such as "[email]". A string with nothing to hide costs one pass
// over its bytes and no allocation.
package logging

import (
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// Redact returns a core that rewrites every entry's message and fields,
// those given to With included, before core sees them. Which entries are
// written stays core's decision, sampling included; Sync and Enabled are
// core's.
//
// Redact writes through core's Write, so core must honour its own level
// there: wrap each branch of a zapcore.NewTee rather than the tee.
func Redact(core zapcore.Core) zapcore.Core {
	return &redactCore{Core: core}
}

type redactCore struct {
	zapcore.Core
	hide bool // inside a namespace with a secret name: hide every value
	leaf bool // Core is zapcore.NewCore's, whose Check tests only the level
}

// Level lets zapcore.LevelOf see through the wrapper.
func (c *redactCore) Level() zapcore.Level {
	return zapcore.LevelOf(c.Core)
}

func (c *redactCore) With(fs []zapcore.Field) zapcore.Core {
	fs, hide := redactFields(fs, c.hide)
	return &redactCore{Core: c.Core.With(fs), hide: hide, leaf: c.leaf}
}

// Check asks the wrapped core first, so that its level and sampling still
// decide, then routes the write through c rather than straight to it.
// Asking costs a CheckedEntry, so a leaf core is only asked its level.
func (c *redactCore) Check(ent zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	if !c.Enabled(ent.Level) || !c.leaf && c.Core.Check(ent, nil) == nil {
		return ce
	}
	return ce.AddCore(ent, c)
}

func (c *redactCore) Write(ent zapcore.Entry, fs []zapcore.Field) error {
	ent.Message, _ = scrub(ent.Message)
	fs, _ = redactFields(fs, c.hide)
	return c.Core.Write(ent, fs)
}

// New returns the service logger: JSON lines to stderr at info level with
// zap's production sampling, or, in development, console lines at debug
// level. Either way stack traces are attached to errors only (a refused
// request is not a bug) and every line goes through Redact. Its errors
// are those of opening stderr.
func New(development bool) (*zap.Logger, error) {
	return build(config(development))
}

func config(development bool) zap.Config {
	if development {
		return zap.NewDevelopmentConfig()
	}
	return zap.NewProductionConfig()
}

// build is cfg.Build with redaction placed right above the core that
// writes, and sampling, if any, above that.
func build(cfg zap.Config) (*zap.Logger, error) {
	sampling := cfg.Sampling
	cfg.Sampling = nil
	wrap := func(core zapcore.Core) zapcore.Core {
		// Without sampling, Build hands over the zapcore.NewCore it made.
		core = &redactCore{Core: core, leaf: true}
		if sampling != nil {
			var opts []zapcore.SamplerOption
			if sampling.Hook != nil {
				opts = append(opts, zapcore.SamplerHook(sampling.Hook))
			}
			core = zapcore.NewSamplerWithOptions(core, time.Second,
				sampling.Initial, sampling.Thereafter, opts...)
		}
		return core
	}
	return cfg.Build(zap.AddStacktrace(zap.ErrorLevel), zap.WrapCore(wrap))
}
