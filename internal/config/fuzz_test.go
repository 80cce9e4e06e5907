package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParse checks that Parse never panics, and that it returns either a
// Config or a non-empty *Errors whose problems all name the file.
func FuzzParse(f *testing.F) {
	files, err := filepath.Glob("testdata/*.yaml")
	if err != nil {
		f.Fatal(err)
	}
	files = append(files, exampleFile)
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(""))
	f.Add([]byte("rules: [{name: r, metric: waiting, above: ${X:-1}}]"))
	f.Add([]byte("a: &a [*a]"))

	lookup := env("X", "5", "EMPTY", "", "SECRET", "fuzz-secret-value")
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse("testdata/fuzz.yaml", data, lookup)
		if err == nil {
			if c == nil {
				t.Fatal("Parse returned neither a Config nor an error")
			}
			if c.Listen == "" || c.Store == "" || c.Genesys.Stream == nil {
				t.Fatalf("defaults missing from an accepted configuration: %+v", c)
			}
			return
		}
		if c != nil {
			t.Fatal("Parse returned a Config along with an error")
		}
		var errs *Errors
		if !errors.As(err, &errs) || len(*errs) == 0 {
			t.Fatalf("error %v is not a non-empty *Errors", err)
		}
		for i, p := range *errs {
			if p.File != "testdata/fuzz.yaml" || p.Msg == "" {
				t.Fatalf("problem %+v", p)
			}
			if i > 0 && p.Line < (*errs)[i-1].Line {
				t.Fatalf("problems not sorted by line: %v", err)
			}
		}
		if strings.Contains(err.Error(), "fuzz-secret-value") && !strings.Contains(string(data), "SECRET") {
			t.Fatalf("a secret from the environment leaked into the errors: %v", err)
		}
	})
}
