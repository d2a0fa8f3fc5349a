package contractdocs

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/contract"
)

// The schema served for an action accepts exactly the requests and the
// response data the consumer accepts (package contract, as the consumer
// validates), on the example handlers and on requests made to fail.
func TestSchemasAgreeWithTheConsumer(t *testing.T) {
	actions, problems, err := Load("../examples/handlers")
	if err != nil || len(problems) > 0 {
		t.Fatalf("load the example handlers: %v %v", err, problems)
	}
	site, err := Build(Input{Actions: actions})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(NewServer(site).Handler())
	defer srv.Close()
	comp := jsonschema.NewCompiler()
	comp.UseLoader(httpLoader{})
	requests := []string{
		`{"favourite_food": "onion"}`, `{"favourite_food": "banana", "chance_percentage": 5}`,
		`{}`, `{"favourite_food": "pizza"}`, `{"favourite_food": "onion", "chance_percentage": 0}`,
		`{"favourite_food": "onion", "chance_percentage": 2.5}`, `{"favourite_food": "onion", "colour": "red"}`,
		`{"favourite_food": 1}`,
	}
	data := []string{`{"tolerable": true}`, `{}`, `{"tolerable": "yes"}`, `{"tolerable": false, "why": "x"}`}
	for _, a := range actions {
		c, err := contract.Load("../examples/handlers/" + a.Exchange + "/contract.json")
		if err != nil {
			t.Fatal(err)
		}
		cc, err := contract.Compile(a.Exchange, c)
		if err != nil {
			t.Fatal(err)
		}
		req, err := comp.Compile(srv.URL + "/schemas/" + SchemaFile(a.Exchange) + "#/properties/request_model")
		if err != nil {
			t.Fatal(err)
		}
		resp, err := comp.Compile(srv.URL + "/schemas/" + SchemaFile(a.Exchange) + "#/$defs/response")
		if err != nil {
			t.Fatal(err)
		}
		for _, body := range requests {
			obj, errs := contract.DecodeRequest([]byte(body))
			if errs == nil {
				cc.ApplyDefaults(obj)
				errs = cc.CheckRequest(obj)
			}
			consumer := len(errs) == 0
			served := req.Validate(decode(t, []byte(body))) == nil
			if consumer != served {
				t.Errorf("%s: request %s: the consumer accepts it: %v, the served schema: %v", a.Exchange, body, consumer, served)
			}
		}
		for _, d := range data {
			consumer := cc.CheckResponse([]byte(`{"success": true, "message": "m", "data": `+d+`}`)) == nil
			served := resp.Validate(decode(t, []byte(d))) == nil
			if consumer != served {
				t.Errorf("%s: data %s: the consumer accepts it: %v, the served schema: %v", a.Exchange, d, consumer, served)
			}
		}
	}
	if !strings.Contains(string(site["schemas/dx_example.json"]), `"$id": "dx_example.request.json"`) {
		t.Errorf("the request schema is not an embedded resource:\n%s", site["schemas/dx_example.json"])
	}
}
