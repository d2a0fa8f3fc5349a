package contractdocs

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"html/template"
	"path"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/wire"
)

//go:embed assets
var assets embed.FS

var pages = template.Must(template.New("").Funcs(template.FuncMap{
	"inc": func(i int) int { return i + 1 },
}).ParseFS(assets, "assets/layout.html"))

// Site is the whole documentation: every file by its path ("index.html",
// "actions/dx_example.html", "schemas/head.json", ...), as served and as
// written by build.
type Site map[string][]byte

// Paths of the site's fixed files.
const (
	IndexFile      = "index.html"
	StyleFile      = "style.css"
	SchemaListFile = "schemas/index.json"
)

// ActionFile is the path of an action's page.
func ActionFile(exchange string) string { return "actions/" + exchange + ".html" }

// Input is what a site documents.
type Input struct {
	// HandlersDirectory is where the actions were found.
	HandlersDirectory string
	// Actions are the actions documented.
	Actions []Action
	// Problems name the contracts left out (see Load).
	Problems []error
}

// Build renders the site of the actions.
func Build(in Input) (Site, error) {
	actions := append([]Action(nil), in.Actions...)
	SortActions(actions)
	problems := make([]string, len(in.Problems))
	for i, p := range in.Problems {
		problems[i] = p.Error()
	}
	site := Site{}
	css, err := assets.ReadFile("assets/style.css")
	if err != nil {
		return nil, err
	}
	site[StyleFile] = css
	index, err := render("index.html", map[string]any{
		"Title": "Actions", "Root": "", "HeadSchema": HeadSchema,
		"Actions": actions, "HandlersDirectory": in.HandlersDirectory, "Problems": problems,
	})
	if err != nil {
		return nil, err
	}
	site[IndexFile] = index
	for _, a := range actions {
		page, err := actionPage(a)
		if err != nil {
			return nil, err
		}
		site[ActionFile(a.Exchange)] = page
		schema, err := ActionSchema(a)
		if err != nil {
			return nil, err
		}
		site[path.Join("schemas", SchemaFile(a.Exchange))] = schema
	}
	site[path.Join("schemas", HeadSchema)] = HeadSchemaDoc(actions)
	site[SchemaListFile] = SchemaList(actions)
	return site, nil
}

type examplePage struct{ Request, Response string }

func actionPage(a Action) ([]byte, error) {
	req, err := Fields(a.Request)
	if err != nil {
		return nil, fmt.Errorf("%s: request schema: %w", a.Exchange, err)
	}
	resp, err := Fields(a.Response)
	if err != nil {
		return nil, fmt.Errorf("%s: response schema: %w", a.Exchange, err)
	}
	examples := make([]examplePage, len(a.Examples))
	for i, e := range a.Examples {
		examples[i] = examplePage{Request: indentedJSON(e.Request), Response: indentedJSON(e.Response)}
	}
	return render("action.html", map[string]any{
		"Title": a.Exchange, "Root": "../", "HeadSchema": HeadSchema,
		"Action": a, "SchemaFile": SchemaFile(a.Exchange), "Encrypted": a.EncryptedFields(),
		"RequestFields": req, "ResponseFields": resp, "Examples": examples,
		"RequestClosed": Closed(a.Request), "ResponseClosed": Closed(a.Response),
		"ValidationFailure": failureJSON(wire.ValidationFailure([]wire.ValidationError{{
			Location: []any{firstField(req)}, Message: "Field required", Type: "missing",
		}})),
		"UnexpectedFailure": failureJSON(wire.UnexpectedFailure()),
	})
}

// firstField names the field the validation failure example points at.
func firstField(fields []Field) string {
	for _, f := range fields {
		if f.Required && f.Depth == 0 {
			return f.Name
		}
	}
	if len(fields) > 0 && fields[0].Depth == 0 && fields[0].Name != "(value)" {
		return fields[0].Name
	}
	return "field"
}

func failureJSON(v any) string {
	b, _ := json.MarshalIndent(v, "", "  ")
	return string(b)
}

// render runs a page's template inside the layout.
func render(page string, data map[string]any) ([]byte, error) {
	t, err := pages.Clone()
	if err != nil {
		return nil, err
	}
	if _, err := t.ParseFS(assets, "assets/"+page); err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if err := t.ExecuteTemplate(&b, "layout", data); err != nil {
		return nil, fmt.Errorf("render %s: %w", page, err)
	}
	return b.Bytes(), nil
}
