package contractdocs

import (
	"mime"
	"net/http"
	"path"
	"strings"
	"sync/atomic"
)

// Server serves a Site; Replace swaps in a new one (after the handlers
// changed) without dropping a request.
type Server struct {
	site atomic.Pointer[Site]
}

// NewServer serves site.
func NewServer(site Site) *Server {
	s := &Server{}
	s.site.Store(&site)
	return s
}

// Replace makes the server serve site from now on.
func (s *Server) Replace(site Site) { s.site.Store(&site) }

// Handler routes every path of the site: / (the index), /actions/<exchange>.html,
// /style.css, /schemas (the list of schema files, as JSON),
// /schemas/<exchange>.json and /schemas/head.json.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.file(IndexFile))
	mux.HandleFunc("GET /schemas", s.file(SchemaListFile))
	mux.HandleFunc("GET /schemas/{$}", s.file(SchemaListFile))
	mux.HandleFunc("GET /", s.path)
	return mux
}

func (s *Server) file(name string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) { s.serve(w, r, name) }
}

func (s *Server) path(w http.ResponseWriter, r *http.Request) {
	s.serve(w, r, strings.TrimPrefix(path.Clean(r.URL.Path), "/"))
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request, name string) {
	body, ok := (*s.site.Load())[name]
	if !ok {
		http.NotFound(w, r)
		return
	}
	ct := mime.TypeByExtension(path.Ext(name))
	if ct == "" {
		ct = "application/octet-stream"
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Content-Security-Policy", "default-src 'self'")
	_, _ = w.Write(body)
}
