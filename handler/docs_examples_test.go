package handler

import (
	"context"
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

// protocolExamples are the fenced code blocks of the section on the
// persistent protocol in docs/handlers.md, by language.
func protocolExamples(t *testing.T) map[string]string {
	t.Helper()
	doc, err := os.ReadFile("../docs/handlers.md")
	if err != nil {
		t.Fatal(err)
	}
	s := string(doc)
	from := strings.Index(s, "### The protocol (`rabbitmq-consumer/1`)")
	to := strings.Index(s, "### Helpers")
	if from < 0 || to < from {
		t.Fatal("docs/handlers.md has no section on the protocol followed by one on helpers")
	}
	examples := map[string]string{}
	for _, m := range regexp.MustCompile("(?s)```(\\w+)\n(.*?)```").FindAllStringSubmatch(s[from:to], -1) {
		if _, ok := examples[m[1]]; ok {
			t.Fatalf("two %s examples in the protocol section: only one of each language is run", m[1])
		}
		examples[m[1]] = m[2]
	}
	return examples
}

// TestProtocolExamplesInTheDocs runs each example handler of the protocol
// section of docs/handlers.md as it stands there, as a persistent handler:
// it must shake hands and greet.
func TestProtocolExamplesInTheDocs(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t, ignoreSpawner) })
	examples := protocolExamples(t)
	for _, lang := range []string{"python", "sh", "js", "ruby"} {
		t.Run(lang, func(t *testing.T) {
			src, ok := examples[lang]
			if !ok {
				t.Fatalf("no %s example in the protocol section", lang)
			}
			pl := openPoolAt(t, writeProgram(t, src, "10", `,"mode":"persistent"`), 1)
			for _, name := range []string{"ann", "bob"} {
				raw, err := pl.Handle(context.Background(), &Call{Exchange: "dx_greet", CorrelationID: "c-" + name, VirtualHost: "v", Body: []byte(`{"name":"` + name + `"}`)})
				if err != nil {
					t.Fatal(err)
				}
				var got struct {
					Success bool
					Message string
					Data    struct{ Greeting string }
				}
				if err := json.Unmarshal(raw, &got); err != nil {
					t.Fatalf("response %s: %v", raw, err)
				}
				if !got.Success || got.Message != "Greeted" || got.Data.Greeting != "hello "+name {
					t.Errorf("response = %s, want success, Greeted, hello %s", raw, name)
				}
			}
		})
	}
}
