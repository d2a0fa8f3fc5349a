package loglevel

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"

	"github.com/rs/zerolog"
)

// maxSpecBytes bounds a PUT /log-level body.
const maxSpecBytes = 4096

// HTTPHandler serves the live levels: GET answers the specification (text,
// one line), PUT sets it from the body ("info,handler=debug") and answers
// the new one. Only clients on the loopback interface may PUT. Each
// change is logged on log.
func HTTPHandler(s *Switch, log zerolog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		switch r.Method {
		case http.MethodGet, http.MethodHead:
			fmt.Fprintln(w, s.Levels())
		case http.MethodPut, http.MethodPost:
			if !fromLoopback(r.RemoteAddr) {
				http.Error(w, "the log level may be changed from this host only", http.StatusForbidden)
				return
			}
			body, err := io.ReadAll(io.LimitReader(r.Body, maxSpecBytes))
			if err != nil {
				http.Error(w, "cannot read the body: "+err.Error(), http.StatusBadRequest)
				return
			}
			l, err := Parse(strings.TrimSpace(string(body)))
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			s.Set(l)
			log.Warn().Str("log_level", l.String()).Str("from", r.RemoteAddr).Msg("log level changed")
			fmt.Fprintln(w, l)
		default:
			w.Header().Set("Allow", "GET, HEAD, PUT")
			http.Error(w, "GET or PUT", http.StatusMethodNotAllowed)
		}
	})
}

func fromLoopback(remote string) bool {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
