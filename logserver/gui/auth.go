package gui

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
)

// realm names the GUI in the browser's password prompt.
const realm = "RPC log"

// basicAuth admits requests whose basic authentication password is
// password, whatever the user name; an empty password admits everyone.
func basicAuth(password string, next http.Handler) http.Handler {
	if password == "" {
		return next
	}
	want := sha256.Sum256([]byte(password))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, got, ok := r.BasicAuth()
		sum := sha256.Sum256([]byte(got))
		if !ok || subtle.ConstantTimeCompare(sum[:], want[:]) != 1 {
			w.Header().Set("WWW-Authenticate", `Basic realm="`+realm+`", charset="UTF-8"`)
			http.Error(w, "401 unauthorized: this log needs its password", http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
}
