// Package pgtest gives tests an empty PostgreSQL schema of their own on the
// database named by QUEUEWATCH_TEST_POSTGRES, dropped when the test ends, so
// that tests run in parallel and leave nothing behind.
//
// Without QUEUEWATCH_TEST_POSTGRES the tests skip with a message, unless
// QUEUEWATCH_REQUIRE_POSTGRES=1 (set by CI), where they fail instead.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// EnvDSN names the variable holding the test database's DSN, for example
// postgres://postgres@127.0.0.1:5432/test?sslmode=disable.
const EnvDSN = "QUEUEWATCH_TEST_POSTGRES"

// EnvRequire names the variable that, set to 1, makes a missing EnvDSN fail
// the tests instead of skipping them.
const EnvRequire = "QUEUEWATCH_REQUIRE_POSTGRES"

// BaseDSN returns the test database's DSN, or skips (or fails) tb when none
// is configured.
func BaseDSN(tb testing.TB) string {
	tb.Helper()
	dsn := os.Getenv(EnvDSN)
	if dsn == "" {
		if os.Getenv(EnvRequire) == "1" {
			tb.Fatalf("%s is not set but %s=1: PostgreSQL tests are required here", EnvDSN, EnvRequire)
		}
		tb.Skipf("PostgreSQL tests skipped: set %s=postgres://user@host:5432/db?sslmode=disable to run them", EnvDSN)
	}
	return dsn
}

// DSN creates a new empty schema on the test database and returns a DSN
// whose search_path is that schema. The schema is dropped with everything
// in it when tb ends.
func DSN(tb testing.TB) string {
	tb.Helper()
	base := BaseDSN(tb)
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		tb.Fatal(err)
	}
	schema := "qwtest_" + hex.EncodeToString(b[:])
	exec(tb, base, `CREATE SCHEMA `+schema)
	tb.Cleanup(func() { exec(tb, base, `DROP SCHEMA `+schema+` CASCADE`) })
	u, err := url.Parse(base)
	if err != nil {
		tb.Fatalf("%s: %v", EnvDSN, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

func exec(tb testing.TB, dsn, sql string) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		tb.Fatalf("connecting to the test database (%s): %v", EnvDSN, err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql); err != nil {
		tb.Fatalf("%s: %v", sql, err)
	}
}
