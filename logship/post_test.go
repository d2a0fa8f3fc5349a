package logship

import (
	"encoding/json"
	"testing"
)

func TestClassify(t *testing.T) {
	for _, c := range []struct {
		status int
		want   verdict
	}{
		{201, accepted},
		{401, unauthorized}, {403, unauthorized},
		{400, refused}, {409, refused}, {413, refused}, {422, refused},
		{500, failed},
		{404, unavailable}, {405, unavailable}, {408, unavailable}, {429, unavailable},
		{502, unavailable}, {503, unavailable}, {504, unavailable}, {200, unavailable}, {302, unavailable},
	} {
		if got := classify(c.status); got != c.want {
			t.Errorf("classify(%d) = %d, want %d", c.status, got, c.want)
		}
	}
}

func TestAsObject(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{`{"a":1}`, `{"a":1}`},
		{`"[1,2]"`, `{"_raw":"[1,2]"}`},
		{`[1,2]`, `{"_raw":[1,2]}`},
		{`42`, `{"_raw":42}`},
		{`null`, `{"_raw":null}`},
		{``, `{"_raw":null}`},
	} {
		got := asObject(json.RawMessage(c.in))
		if string(got) != c.want || !json.Valid(got) {
			t.Errorf("asObject(%s) = %s, want %s", c.in, got, c.want)
		}
	}
}
