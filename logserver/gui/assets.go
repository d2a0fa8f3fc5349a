package gui

import (
	"bytes"
	"embed"
	"html/template"
	"io/fs"
	"net/http"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// pages holds one template set per page, each with the layout and the
// shared partials.
type pages map[string]*template.Template

// pageNames are the page templates under templates/.
var pageNames = []string{"list", "pair", "error"}

// mustParsePages parses the embedded templates; they are part of the
// binary, so an error is a programming error.
func mustParsePages() pages {
	p := pages{}
	for _, name := range pageNames {
		t := template.Must(template.New(name).ParseFS(templateFS,
			"templates/layout.html", "templates/row.html", "templates/json.html", "templates/progress.html", "templates/"+name+".html"))
		p[name] = t
	}
	return p
}

// render writes a page with the given status. It renders into a buffer
// first, so that a template error is a clean 500 rather than half a page.
func (p pages) render(w http.ResponseWriter, status int, name string, data any) error {
	var b bytes.Buffer
	if err := p[name].ExecuteTemplate(&b, "layout", data); err != nil {
		http.Error(w, "500 internal server error: the page could not be drawn", http.StatusInternalServerError)
		return err
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, err := w.Write(b.Bytes())
	return err
}

// renderRow draws one list row, as the list page does, for the live view.
func (p pages) renderRow(row rowView) (string, error) {
	var b bytes.Buffer
	err := p["list"].ExecuteTemplate(&b, "row", row)
	return b.String(), err
}

// renderProgress draws a pair's progress list, as the pair page does, for
// the live view.
func (p pages) renderProgress(ps []progressView) (string, error) {
	var b bytes.Buffer
	err := p["pair"].ExecuteTemplate(&b, "progress", ps)
	return b.String(), err
}

// staticHandler serves the embedded assets under /static/; they change
// only with the binary, so browsers may keep them for a day.
func staticHandler() http.Handler {
	sub, err := fs.Sub(staticFS, "static")
	if err != nil {
		panic(err)
	}
	files := http.StripPrefix("/static/", http.FileServerFS(sub))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=86400")
		files.ServeHTTP(w, r)
	})
}
