package main

import (
	"encoding/json"
	"maps"
	"testing"
)

func TestSetContract(t *testing.T) {
	const raw = `{"description":"echo","mode":"persistent","lock_attribute":"n","timeout_seconds":30}`
	for _, tc := range []struct {
		name, mode, lock string
		want             map[string]any
	}{
		{"one-shot without lock", "", "", map[string]any{"description": "echo", "timeout_seconds": 30.0}},
		{"persistent with lock", "persistent", "n", map[string]any{"description": "echo", "timeout_seconds": 30.0, "mode": "persistent", "lock_attribute": "n"}},
		{"persistent without lock", "persistent", "", map[string]any{"description": "echo", "timeout_seconds": 30.0, "mode": "persistent"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := setContract([]byte(raw), tc.mode, tc.lock)
			if err != nil {
				t.Fatal(err)
			}
			var got map[string]any
			if err := json.Unmarshal(out, &got); err != nil {
				t.Fatal(err)
			}
			if !maps.Equal(got, tc.want) {
				t.Fatalf("setContract = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestScenarioKinds(t *testing.T) {
	for _, tc := range []struct {
		name               string
		python, persistent bool
	}{
		{"bare", false, false},
		{"consumer-exec", false, false},
		{"reference-model", true, false},
		{"reference-model-lock", true, false},
		{"python-oneshot", true, false},
		{"python-persistent-heavy", true, true},
		{"exec-persistent-nolock", false, true},
	} {
		if pythonScenario(tc.name) != tc.python || persistentScenario(tc.name) != tc.persistent {
			t.Errorf("%s: python %v, persistent %v; want %v, %v", tc.name, pythonScenario(tc.name), persistentScenario(tc.name), tc.python, tc.persistent)
		}
	}
}

func TestTail(t *testing.T) {
	var tl tail
	if got := tl.String(); got != "(nothing)" {
		t.Fatalf("empty tail = %q", got)
	}
	_, _ = tl.Write([]byte("first\n"))
	big := make([]byte, tailSize)
	for i := range big {
		big[i] = 'x'
	}
	_, _ = tl.Write(big)
	_, _ = tl.Write([]byte("\nlast words\n"))
	got := tl.String()
	if len(got) > tailSize+3*10 || got[len(got)-len("last words"):] != "last words" || got[:5] == "first" {
		t.Fatalf("tail = %q...", got[:20])
	}
}

func TestLastMessage(t *testing.T) {
	for in, want := range map[string]string{
		`{"level":"info","message":"a"}` + "\n" + `{"level":"error","message":"handler error: x"}` + "\n": "handler error: x",
		"plain line\n": "plain line",
	} {
		if got := lastMessage([]byte(in)); got != want {
			t.Errorf("lastMessage(%q) = %q, want %q", in, got, want)
		}
	}
}
