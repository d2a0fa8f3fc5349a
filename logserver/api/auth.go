package api

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
)

// equalSecret compares a given secret with the expected one in constant
// time; an empty expected secret matches nothing.
func equalSecret(given, want string) bool {
	if want == "" {
		return false
	}
	g, w := sha256.Sum256([]byte(given)), sha256.Sum256([]byte(want))
	return subtle.ConstantTimeCompare(g[:], w[:]) == 1
}

// Realm is the HTTP basic auth realm of the GUI and the queries.
const Realm = "rabbitmq-consumer-log-server"

// RequirePassword lets through the requests whose HTTP basic auth carries
// password (the user name is not checked, as the reference's GUI), and
// answers the others 401 with a challenge.
func RequirePassword(password string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, given, ok := r.BasicAuth(); ok && equalSecret(given, password) {
			next.ServeHTTP(w, r)
			return
		}
		w.Header().Set("WWW-Authenticate", `Basic realm="`+Realm+`", charset="UTF-8"`)
		detail(w, http.StatusUnauthorized, "Incorrect password")
	})
}
