// Package testpg gives a test a PostgreSQL database of its own on the
// local server (127.0.0.1:5432, trust authentication, as
// scripts/ensure-deps.sh sets it up), dropped when the test ends.
package testpg

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Addr is the PostgreSQL server the tests use; $TEST_POSTGRES_ADDR
// overrides it.
func Addr() string {
	if a := os.Getenv("TEST_POSTGRES_ADDR"); a != "" {
		return a
	}
	return "127.0.0.1:5432"
}

// users are the roles tried, in order: the server's superuser, then root
// (a cluster created by root).
var users = []string{"postgres", "root"}

// admin connects to the server's maintenance database.
func admin(ctx context.Context) (*pgx.Conn, string, error) {
	var errs []error
	for _, u := range users {
		c, err := pgx.Connect(ctx, fmt.Sprintf("postgres://%s@%s/postgres?sslmode=disable", u, Addr()))
		if err == nil {
			return c, u, nil
		}
		errs = append(errs, err)
	}
	return nil, "", fmt.Errorf("no PostgreSQL at %s for users %v (run scripts/ensure-deps.sh): %v", Addr(), users, errs)
}

// New creates a database named prefix_<random> and returns its URL; the
// database is dropped when the test ends.
func New(t testing.TB, prefix string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, user, err := admin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(context.Background())
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := prefix + "_" + hex.EncodeToString(b[:])
	if _, err := c.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		t.Fatalf("create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, _, err := admin(ctx)
		if err != nil {
			t.Errorf("drop database %s: %v", name, err)
			return
		}
		defer c.Close(context.Background())
		if _, err := c.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
			t.Errorf("drop database %s: %v", name, err)
		}
	})
	return fmt.Sprintf("postgres://%s@%s/%s?sslmode=disable", user, Addr(), name)
}
