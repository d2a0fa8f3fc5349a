package contractdocs

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/clientgen"
)

// Action is one exchange as its documentation shows it: its contract and
// where it is served.
type Action struct {
	// Exchange names the action.
	Exchange string
	// Description says what it does.
	Description string
	// LockAttribute is the request field whose value serialises requests;
	// empty: one request at a time on the exchange.
	LockAttribute string
	// Timeout bounds one run of the handler.
	Timeout time.Duration
	// Mode is "oneshot" or "persistent".
	Mode string
	// FormatAssertion makes "format" an assertion.
	FormatAssertion bool
	// Request and Response are the contract's JSON Schemas (the response's
	// is the schema of a successful response's data).
	Request, Response json.RawMessage
	// Examples are the contract's request/response pairs.
	Examples []Example
	// Served lists the virtual hosts whose consumers serve the exchange,
	// from the consumers' configuration (empty without one).
	Served []Route
}

// Example is one request and the whole response it gets.
type Example struct {
	Request, Response json.RawMessage
}

// Route is a virtual host serving an action, and the queue callers route to.
type Route struct {
	VirtualHost, Queue string
	// Fernet is true when the virtual host has a Fernet key.
	Fernet bool
}

// EncryptedFields are the request's top-level fields the caller is
// expected to Fernet-encrypt (contract.FernetAnnotation), in schema order.
func (a Action) EncryptedFields() []string {
	fields, err := Fields(a.Request)
	if err != nil {
		return nil
	}
	var out []string
	for _, f := range fields {
		if f.Encrypted {
			out = append(out, f.Name)
		}
	}
	return out
}

// exampleRequest is the first example's request, compact, or {}.
func (a Action) exampleRequest() string {
	if len(a.Examples) == 0 {
		return "{}"
	}
	v, err := decodeOrdered(a.Examples[0].Request)
	if err != nil {
		return "{}"
	}
	return orderedJSON(v)
}

// vhost is the first virtual host serving the action, or a placeholder.
func (a Action) vhost() string {
	if len(a.Served) > 0 {
		return a.Served[0].VirtualHost
	}
	return "VHOST"
}

// RPCCommand is the rabbitmq-rpc command line that makes the first
// example's call.
func (a Action) RPCCommand() string {
	var b strings.Builder
	fmt.Fprintf(&b, "rabbitmq-rpc --virtual-host-name %s --exchange %s", a.vhost(), a.Exchange)
	for _, f := range a.EncryptedFields() {
		fmt.Fprintf(&b, " --encrypt %s", f)
	}
	fmt.Fprintf(&b, " \\\n  '%s'", strings.ReplaceAll(a.exampleRequest(), "'", `'\''`))
	return b.String()
}

// GoSnippet is a Go program that makes the first example's call through
// client.CallTyped with the types `rabbitmq-consumer-docs generate go`
// writes.
func (a Action) GoSnippet() string {
	typ := clientgen.GoName(a.Exchange)
	opts := ""
	if enc := a.EncryptedFields(); len(enc) > 0 {
		opts = fmt.Sprintf(", client.Encrypt(%s)", quoteAll(enc))
	}
	return fmt.Sprintf(`// The types: rabbitmq-consumer-docs generate go --package actions > actions/actions.go
cfg, err := config.Load("/etc/rabbitmq-consumer/rabbitmq.yml")
if err != nil {
	return err
}
ccfg, err := client.FromFile(cfg, %q)
if err != nil {
	return err
}
c, err := client.Dial(ctx, ccfg)
if err != nil {
	return err
}
defer c.Close()

var req actions.%[2]sRequest
if err := json.Unmarshal([]byte(%[3]s), &req); err != nil {
	return err
}
reply, err := client.CallTyped[actions.%[2]sRequest, actions.%[2]sResponse](ctx, c, %[4]q, req%[5]s)
if err != nil {
	return err // no reply: timeout, unroutable, connection
}
if !reply.Success {
	return fmt.Errorf("%%s: %%s", %[4]q, reply.Message)
}
fmt.Printf("%%+v\n", reply.Data)`, a.vhost(), typ, "`"+a.exampleRequest()+"`", a.Exchange, opts)
}

func quoteAll(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = fmt.Sprintf("%q", s)
	}
	return strings.Join(q, ", ")
}

// orderedJSON is v as compact JSON in document order.
func orderedJSON(v any) string {
	var b strings.Builder
	writeOrdered(&b, v, "", "")
	return b.String()
}

// indentedJSON is v as indented JSON in document order.
func indentedJSON(raw json.RawMessage) string {
	v, err := decodeOrdered(raw)
	if err != nil {
		return string(raw)
	}
	var b strings.Builder
	writeOrdered(&b, v, "\n", "  ")
	return b.String()
}

func writeOrdered(b *strings.Builder, v any, nl, indent string) {
	writeAt(b, v, nl, indent, "")
}

func writeAt(b *strings.Builder, v any, nl, indent, cur string) {
	switch t := v.(type) {
	case *object:
		if len(t.keys) == 0 {
			b.WriteString("{}")
			return
		}
		b.WriteString("{")
		for i, k := range t.keys {
			if i > 0 {
				b.WriteString(",")
				if indent == "" {
					b.WriteString(" ")
				}
			}
			b.WriteString(nl + cur + indent)
			kb, _ := json.Marshal(k)
			b.Write(kb)
			b.WriteString(": ")
			writeAt(b, t.vals[k], nl, indent, cur+indent)
		}
		b.WriteString(nl + cur + "}")
	case []any:
		b.WriteString("[")
		for i, e := range t {
			if i > 0 {
				b.WriteString(", ")
			}
			writeAt(b, e, "", "", "")
		}
		b.WriteString("]")
	default:
		b.WriteString(jsonText(t))
	}
}

// SortActions orders actions by exchange name.
func SortActions(actions []Action) {
	sort.Slice(actions, func(i, j int) bool { return actions[i].Exchange < actions[j].Exchange })
}
