// Command latch runs the Latch identity server and its tools.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/latchid/latch/internal/app"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := app.Main(ctx, os.Args, os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
