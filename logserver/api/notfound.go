package api

import "net/http"

// Fallback answers, as FastAPI does, the requests under the API's base
// that no endpoint took: 405 {"detail":"Method Not Allowed"} with Allow
// for a path in allow (path -> methods, e.g. "GET, POST"), 404
// {"detail":"Not Found"} for any other.
func Fallback(allow map[string]string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if methods, ok := allow[r.URL.Path]; ok {
			w.Header().Set("Allow", methods)
			detail(w, http.StatusMethodNotAllowed, "Method Not Allowed")
			return
		}
		detail(w, http.StatusNotFound, "Not Found")
	})
}
