package main

import (
	"context"

	"github.com/gowaitgroup/waitgroup"
)

func main() {
	ctx, stop := context.WithCancel(context.Background())
	_ = stop
	g := waitgroup.WithContext(ctx) // main.main: the process ends with it
	_ = g.Wait(ctx)
}
