package consumer

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestExampleHandlerDecidesAsTheReference: the example handler decides as
// the reference's dx_example: onion is never tolerable; otherwise a food is
// tolerable when a uniform draw in [0, 1) exceeds chance_percentage/100.
// Through the broker, the outcomes that do not depend on the draw, for the
// persistent example and its one-shot twin.
func TestExampleHandlerDecidesAsTheReference(t *testing.T) {
	for _, exchange := range []string{"dx_example", "dx_example_oneshot"} {
		t.Run(exchange, func(t *testing.T) { exampleDecidesAsTheReference(t, exchange) })
	}
}

func exampleDecidesAsTheReference(t *testing.T, exchange string) {
	h := start(t, setup{exchanges: []string{exchange}})
	c := h.caller(false)
	tolerable := func(food string, chance int) bool {
		t.Helper()
		r := h.call(c, exchange, map[string]any{"favourite_food": food, "chance_percentage": chance})
		var d struct{ Tolerable *bool }
		if err := json.Unmarshal(r.Data, &d); err != nil || !r.Success || d.Tolerable == nil {
			t.Fatalf("%s at %d%%: reply = %+v (%s)", food, chance, r, r.Data)
		}
		return *d.Tolerable
	}
	for _, chance := range []int{1, 100} {
		if tolerable("onion", chance) {
			t.Errorf("onion at %d%% is tolerable; onion never is", chance)
		}
	}
	// No draw in [0, 1) exceeds 1.
	for _, food := range []string{"orange", "banana"} {
		if tolerable(food, 100) {
			t.Errorf("%s at 100%% is tolerable; the draw never exceeds 1", food)
		}
	}
	// At 1%, 99 draws in 100 exceed 0.01: five calls all intolerable
	// happen once in 10^10.
	some := false
	for range 5 {
		some = some || tolerable("orange", 1)
	}
	if !some {
		t.Error("orange at 1% was intolerable five times in a row")
	}
}

// TestExampleHandlerPinnedDraw runs the example handlers (the persistent
// dx_example, one request line; dx_example_oneshot, the request on stdin)
// with the draw pinned by DX_EXAMPLE_DRAW: tolerable exactly when the draw
// exceeds the chance.
func TestExampleHandlerPinnedDraw(t *testing.T) {
	tests := []struct {
		food   string
		chance int
		draw   string
		want   bool
	}{
		{"banana", 20, "0.5", true},
		{"banana", 50, "0.5", false}, // equal is not exceeding
		{"banana", 49, "0.5", true},
		{"orange", 80, "0.5", false},
		{"orange", 1, "0.0", false},
		{"orange", 1, "0.02", true},
		{"onion", 1, "0.99", false},
		{"banana", 150, "0.99", false},
	}
	for _, tt := range tests {
		for _, exchange := range []string{"dx_example", "dx_example_oneshot"} {
			t.Run(fmt.Sprintf("%s_%s_%d_%s", exchange, tt.food, tt.chance, tt.draw), func(t *testing.T) {
				request := fmt.Sprintf(`{"favourite_food":%q,"chance_percentage":%d}`, tt.food, tt.chance)
				if exchange == "dx_example" {
					request = `{"correlation_id":"c1","exchange":"dx_example","virtual_host":"v","redelivered":false,"deadline":null,"request":` + request + "}\n"
				}
				cmd := exec.Command(filepath.Join(exampleHandlers, exchange, "handler"))
				cmd.Env = append(os.Environ(), "DX_EXAMPLE_DRAW="+tt.draw)
				cmd.Stdin = strings.NewReader(request)
				out, err := cmd.Output()
				if err != nil {
					t.Fatalf("handler: %v", err)
				}
				if exchange == "dx_example" {
					lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
					var line struct {
						CorrelationID string          `json:"correlation_id"`
						Response      json.RawMessage `json:"response"`
					}
					if len(lines) != 2 || lines[0] != `{"protocol":"rabbitmq-consumer/1"}` || json.Unmarshal([]byte(lines[1]), &line) != nil || line.CorrelationID != "c1" {
						t.Fatalf("output %q: want the handshake and one response line for c1", out)
					}
					out = line.Response
				}
				var r struct {
					Success bool
					Data    struct{ Tolerable bool }
				}
				if err := json.Unmarshal(out, &r); err != nil || !r.Success {
					t.Fatalf("output %q: %v", out, err)
				}
				if r.Data.Tolerable != tt.want {
					t.Errorf("tolerable = %v, want %v", r.Data.Tolerable, tt.want)
				}
			})
		}
	}
}
