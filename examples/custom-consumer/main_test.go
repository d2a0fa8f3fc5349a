package main

import (
	"context"
	"testing"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/consumer"
)

func TestDetermineToleration(t *testing.T) {
	tests := []struct {
		chance int
		want   bool
	}{{100, true}, {0, false}}
	for _, tt := range tests {
		r, err := determineToleration(context.Background(), &consumer.Call{}, ExampleRequest{FavouriteFood: "onion", ChancePercentage: tt.chance})
		if err != nil || !r.Success || r.Data.Tolerable != tt.want {
			t.Errorf("chance %d: reply %+v, err %v", tt.chance, r, err)
		}
	}
}
