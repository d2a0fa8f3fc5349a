// Package api is the log server's JSON API: the reference log server's
// POST /rpc-requests and /rpc-responses, as a strict superset (any
// correlation id, idempotent repeats), and GET /rpc-requests, the listing
// the GUI shows, as JSON. Each endpoint is an http.Handler built from the
// store and Options; package logserver mounts them under /api/v1/.
package api

import (
	"encoding/json"
	"net/http"

	"github.com/rs/zerolog"
)

// DefaultMaxBodyBytes bounds a posted record when Options.MaxBodyBytes is 0.
const DefaultMaxBodyBytes = 16 << 20

// Options configure the API handlers.
type Options struct {
	// Token is the API token the posts must carry in X-API-Token.
	// Required: an empty token refuses every post.
	Token string
	// GUIPassword guards the queries (GET): HTTP basic auth, any user
	// name, as the GUI. Required: empty refuses every query.
	GUIPassword string
	// MaxBodyBytes bounds a posted record (413 beyond); 0 means
	// DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// Logger reports the store's failures (answered 500). The zero
	// Logger writes nothing.
	Logger zerolog.Logger
}

func (o Options) maxBody() int64 {
	if o.MaxBodyBytes > 0 {
		return o.MaxBodyBytes
	}
	return DefaultMaxBodyBytes
}

// writeJSON answers status with v as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"detail":"Internal Server Error"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

// detail answers {"detail": msg}, as FastAPI does.
func detail(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"detail": msg})
}
