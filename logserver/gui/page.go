package gui

import (
	"errors"
	"net/http"
)

// page is what every page's layout needs.
type page struct {
	Title string
	// Nav names the page the header highlights: list or pair.
	Nav string
	// Zone names the time zone the times are shown in.
	Zone string
	// Error is shown above the content when set.
	Error string
}

func (g *gui) newPage(title, nav string) page {
	return page{Title: title, Nav: nav, Zone: g.opts.Location.String()}
}

// write renders a page, reporting a template error.
func (g *gui) write(w http.ResponseWriter, r *http.Request, status int, name string, data any) {
	if err := g.pages.render(w, status, name, data); err != nil {
		g.opts.LogError(r, err)
	}
}

// errorView is the error page's content.
type errorView struct {
	page
	Status int
	Detail string
}

// storeFailed answers 503 when the store cannot be read.
func (g *gui) storeFailed(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, r.Context().Err()) {
		return // the browser went away
	}
	g.opts.LogError(r, err)
	v := errorView{page: g.newPage("Store unavailable", ""), Status: http.StatusServiceUnavailable,
		Detail: "The log's database could not be read. Try again in a moment; the server's log names the cause."}
	g.write(w, r, http.StatusServiceUnavailable, "error", v)
}

func (g *gui) notFound(w http.ResponseWriter, r *http.Request) {
	v := errorView{page: g.newPage("Not found", ""), Status: http.StatusNotFound,
		Detail: "There is no page at this address."}
	g.write(w, r, http.StatusNotFound, "error", v)
}

// seeOther redirects to a relative URL as it is: http.Redirect would make
// it absolute from the request's path, which is wrong when the GUI is
// served under a prefix that was stripped.
func seeOther(w http.ResponseWriter, location string) {
	w.Header().Set("Location", location)
	w.WriteHeader(http.StatusSeeOther)
}
