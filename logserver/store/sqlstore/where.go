package sqlstore

import (
	"strings"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/logserver/store"
)

// where is a WHERE clause with its arguments, built condition by condition.
type where struct {
	conds []string
	args  []any
}

func (w *where) add(cond string, args ...any) {
	w.conds = append(w.conds, cond)
	w.args = append(w.args, args...)
}

// String is " WHERE a AND b", or "" with no conditions.
func (w *where) String() string {
	if len(w.conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(w.conds, " AND ")
}

// prefixEnd is an upper bound of the strings starting with prefix, compared
// byte-wise: a prefix is the range [prefix, prefixEnd) of the index.
func prefixEnd(prefix string) string { return prefix + "\U0010FFFF" }

// filterWhere selects the pairs f selects; outcomes false leaves
// f.Outcomes out (for counts per outcome).
func filterWhere(f store.Filter, outcomes bool) *where {
	w := &where{}
	switch {
	case f.CorrelationID != "" && f.CorrelationPrefix:
		w.add("correlation_id >= ? AND correlation_id < ?", f.CorrelationID, prefixEnd(f.CorrelationID))
	case f.CorrelationID != "":
		w.add("correlation_id = ?", f.CorrelationID)
	}
	w.addGroups(f)
	if outcomes && len(f.Outcomes) > 0 {
		marks := make([]string, len(f.Outcomes))
		for i, o := range f.Outcomes {
			marks[i] = "?"
			w.args = append(w.args, string(o))
		}
		w.conds = append(w.conds, "outcome IN ("+strings.Join(marks, ", ")+")")
	}
	// A time range is a range of ids: created_at never decreases as ids
	// grow (AddRequest), so the first id at or after Since and the last
	// before Until bound it, found on the created_at index; the list then
	// walks the primary key, newest first, instead of sorting the range.
	// No such id: nothing matches (id >= NULL is not true).
	if !f.Since.IsZero() {
		w.add("id >= (SELECT id FROM rpc_pairs WHERE created_at >= ? ORDER BY created_at, id LIMIT 1)", f.Since.UnixMicro())
	}
	if !f.Until.IsZero() {
		w.add("id <= (SELECT id FROM rpc_pairs WHERE created_at < ? ORDER BY created_at DESC, id DESC LIMIT 1)", f.Until.UnixMicro())
	}
	if f.After != 0 {
		w.add("id > ?", f.After)
	}
	return w
}

// countable tells whether the counts of f can be read from rpc_counts:
// only the grouped columns are filtered.
func countable(f store.Filter) bool {
	return f.CorrelationID == "" && f.Since.IsZero() && f.Until.IsZero() && f.After == 0
}

// countsWhere selects the rpc_counts rows of f's groups.
func countsWhere(f store.Filter) *where {
	w := &where{}
	w.addGroups(f)
	return w
}

// addGroups adds the conditions on the columns rpc_counts groups by.
func (w *where) addGroups(f store.Filter) {
	if f.VirtualHost != "" {
		w.add("virtual_host_name = ?", f.VirtualHost)
	}
	if f.Exchange != "" {
		w.add("exchange_name = ?", f.Exchange)
	}
	if f.Hostname != "" {
		w.add("hostname = ?", f.Hostname)
	}
}
