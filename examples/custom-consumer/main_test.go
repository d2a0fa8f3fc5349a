package main

import (
	"context"
	"testing"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/handler"
)

func TestDetermineToleration(t *testing.T) {
	// The outcomes that do not depend on the draw in [0, 1): onion never;
	// at 100% never; at 0% always (a draw of exactly 0 aside).
	tests := []struct {
		food   string
		chance int
		want   bool
	}{{"onion", 100, false}, {"onion", 0, false}, {"banana", 100, false}, {"banana", 0, true}}
	for _, tt := range tests {
		r, err := determineToleration(context.Background(), &handler.Call{}, ExampleRequest{FavouriteFood: tt.food, ChancePercentage: tt.chance})
		if err != nil || !r.Success || r.Data.Tolerable != tt.want {
			t.Errorf("%s at %d%%: reply %+v, err %v", tt.food, tt.chance, r, err)
		}
	}
}
