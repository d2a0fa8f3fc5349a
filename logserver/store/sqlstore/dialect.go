package sqlstore

import (
	"strconv"
	"strings"
)

// Dialect is what differs between the SQL databases the store runs on.
type Dialect struct {
	// Name selects the migrations (migrations/<Name>/).
	Name string
	// Numbered placeholders ($1, $2, ...) instead of ?.
	Numbered bool
	// Greatest is the scalar maximum function of two values.
	Greatest string
	// MigrationLock, when set, is run first in each migration's
	// transaction, so that servers starting at once on one database apply
	// a migration once.
	MigrationLock string
}

// SQLite and Postgres are the supported dialects.
var (
	SQLite   = Dialect{Name: "sqlite", Greatest: "max"}
	Postgres = Dialect{Name: "postgres", Numbered: true, Greatest: "GREATEST", MigrationLock: "SELECT pg_advisory_xact_lock(4242001)"}
)

// rebind turns the ? placeholders of q into the dialect's.
func (d Dialect) rebind(q string) string {
	if !d.Numbered {
		return q
	}
	var b strings.Builder
	n := 0
	for _, r := range q {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}
