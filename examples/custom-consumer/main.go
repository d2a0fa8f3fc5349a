// Command custom-consumer is an example of a consumer binary with Go
// handlers compiled in. It serves dx_example_go (the example handler,
// written in Go) next to any executable handlers the configuration names:
//
//	custom-consumer --virtual-host-name V --config-file-path F
//
// Its request and response JSON Schemas are derived from the Go types.
package main

import (
	"context"
	"math/rand/v2"
	"os"
	"time"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/handler"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/runner"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/wire"
)

// ExampleRequest is dx_example_go's request.
type ExampleRequest struct {
	FavouriteFood    string `json:"favourite_food" jsonschema:"enum=onion,enum=orange,enum=banana"`
	ChancePercentage int    `json:"chance_percentage,omitempty" jsonschema:"exclusiveMinimum=0,default=20"`
}

// ExampleResponse is dx_example_go's response data.
type ExampleResponse struct {
	Tolerable bool `json:"tolerable"`
}

// determineToleration answers dx_example_go as the reference's dx_example
// decides: onion is never tolerable; another food is when a uniform draw in
// [0, 1) exceeds the chance.
func determineToleration(_ context.Context, call *handler.Call, req ExampleRequest) (wire.Reply[ExampleResponse], error) {
	tolerable := req.FavouriteFood != "onion" && rand.Float64() > float64(req.ChancePercentage)/100
	return wire.Reply[ExampleResponse]{Success: true, Message: "Determined toleration", Data: ExampleResponse{Tolerable: tolerable}}, nil
}

func main() {
	os.Exit(runner.Main(os.Args[1:], map[string]handler.Handler{
		"dx_example_go": handler.Typed("Determine whether a favourite food is tolerable.", determineToleration,
			handler.WithLockAttribute("favourite_food"),
			handler.WithTimeout(30*time.Second),
			handler.WithExample(
				ExampleRequest{FavouriteFood: "onion", ChancePercentage: 100},
				wire.Reply[ExampleResponse]{Success: true, Message: "Determined toleration", Data: ExampleResponse{Tolerable: false}},
			),
		),
	}))
}
