package wire

import "testing"

func TestTrueHeader(t *testing.T) {
	tests := []struct {
		v    any
		want bool
	}{
		{int32(1), true}, {int64(1), true}, {int8(1), true}, {int16(1), true}, {1, true}, {uint8(1), true},
		{true, true}, {"1", true}, {"true", true},
		{int32(0), false}, {false, false}, {"0", false}, {"yes", false}, {nil, false}, {1.0, false},
	}
	for _, tt := range tests {
		if got := TrueHeader(tt.v); got != tt.want {
			t.Errorf("TrueHeader(%#v) = %v, want %v", tt.v, got, tt.want)
		}
	}
}
