package testutil

import (
	"context"
	"database/sql"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"
)

func openPG(t *testing.T, dsn string) *sql.DB {
	t.Helper()
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestPostgresURLGivesFreshDatabaseDroppedAfterTest(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	var first, second string
	if !t.Run("inner", func(t *testing.T) {
		first, second = PostgresURL(t), PostgresURL(t)
		if first == second {
			t.Fatalf("two calls returned the same database %q", first)
		}
		db := openPG(t, first)
		var tables int
		if err := db.QueryRowContext(ctx,
			`SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'`).Scan(&tables); err != nil {
			t.Fatal(err)
		}
		if tables != 0 {
			t.Fatalf("fresh database has %d tables", tables)
		}
		if _, err := db.ExecContext(ctx, `CREATE TABLE t (id BIGINT PRIMARY KEY)`); err != nil {
			t.Fatal(err)
		}
		// Same table name in the other database: they are independent.
		if _, err := openPG(t, second).ExecContext(ctx, `CREATE TABLE t (id BIGINT PRIMARY KEY)`); err != nil {
			t.Fatal(err)
		}
		// The databases are dropped WITH (FORCE), so a connection left open is fine.
		db.SetMaxIdleConns(1)
	}) {
		return
	}
	if first == "" {
		t.Skip("inner test skipped: no PostgreSQL")
	}

	// The inner test's cleanup has run: both databases must be gone.
	admin := openPG(t, os.Getenv(EnvPostgresURL))
	for _, dsn := range []string{first, second} {
		u, err := url.Parse(dsn)
		if err != nil {
			t.Fatal(err)
		}
		name := strings.TrimPrefix(u.Path, "/")
		var n int
		if err := admin.QueryRowContext(ctx, `SELECT count(*) FROM pg_database WHERE datname = $1`, name).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Errorf("database %s still exists after the test", name)
		}
	}
}

func TestPGClusterStopStart(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := StartPGCluster(t)
	dsn := c.URL()

	if _, err := openPG(t, dsn).ExecContext(ctx, `CREATE TABLE kept (v TEXT); INSERT INTO kept VALUES ('before stop')`); err != nil {
		t.Fatal(err)
	}

	c.Stop(t)
	down := openPG(t, dsn)
	pingCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := down.PingContext(pingCtx); err == nil {
		t.Fatal("ping succeeded while the cluster is stopped")
	}

	c.Start(t)
	if c.URL() != dsn {
		t.Fatalf("URL changed across restart: %s -> %s", dsn, c.URL())
	}
	// The same *sql.DB that failed recovers once the server is back.
	var v string
	if err := down.QueryRowContext(ctx, `SELECT v FROM kept`).Scan(&v); err != nil {
		t.Fatalf("after restart: %v", err)
	}
	if v != "before stop" {
		t.Fatalf("got %q, want the row written before the stop", v)
	}
}
