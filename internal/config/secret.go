package config

// redacted is what a set Secret prints as.
const redacted = "[redacted]"

// MarshalText hides the value, so that JSON and YAML renderings of a
// configuration never contain it.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// GoString hides the value from the %#v verb too.
func (s Secret) GoString() string {
	if s == "" {
		return `config.Secret("")`
	}
	return `config.Secret("` + redacted + `")`
}
