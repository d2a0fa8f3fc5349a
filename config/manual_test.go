package config

import (
	"bytes"
	"strings"
	"testing"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/internal/manual"
)

func TestManualDocumentsEveryKey(t *testing.T) {
	keys := map[string]bool{}
	for _, k := range Keys() {
		keys[k] = true
		if _, ok := keyDocs[k]; !ok {
			t.Errorf("key %s has no entry in keyDocs (config/manual.go): rabbitmq-consumer.yml(5) would not say what it means", k)
		}
	}
	for k := range keyDocs {
		if !keys[k] {
			t.Errorf("keyDocs documents %s, which is not a key of the file", k)
		}
	}
	var b bytes.Buffer
	manual.WriteRoff(&b, Manual(), nil)
	for _, k := range Keys() {
		if !strings.Contains(b.String(), ".B "+k) {
			t.Errorf("the page does not list %s", k)
		}
	}
}
