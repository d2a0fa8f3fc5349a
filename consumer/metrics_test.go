package consumer

import (
	"testing"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/metrics"
)

func TestOutcomeOf(t *testing.T) {
	tests := []struct {
		name                string
		invalid, unexpected bool
		reply               string
		want                metrics.Outcome
	}{
		{"compact success", false, false, `{"success":true,"message":"ok","data":{}}`, metrics.Success},
		{"compact failure", false, false, `{"success":false,"message":"no such tree","data":null}`, metrics.Failure},
		{"success last", false, false, `{"message":"ok","data":{"success":false},"success":true}`, metrics.Success},
		{"failure last, nested success", false, false, `{"data":{"success":true},"success":false}`, metrics.Failure},
		{"spaced", false, false, `{ "success" : true }`, metrics.Success},
		{"validation failure", true, false, `{"success":false,"message":"validation failed"}`, metrics.ValidationFailure},
		{"unexpected error", false, true, `{"success":false,"message":"unexpected error"}`, metrics.UnexpectedError},
	}
	for _, tt := range tests {
		if got := outcomeOf(tt.invalid, tt.unexpected, []byte(tt.reply)); got != tt.want {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
}
