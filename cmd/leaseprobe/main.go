// Command leaseprobe asks every DHCPv4 server on a segment whether a
// client's lease is still valid, the way a rebooting client would.
package main

//go:generate go run ../../internal/gendocs -completions ../../completions

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/leaseprobe/leaseprobe/internal/cli"
)

func main() {
	ctx, cancel := context.WithCancelCause(context.Background())
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		sig := <-sigs
		// A second signal ends the process at once.
		signal.Reset(os.Interrupt, syscall.SIGTERM)
		cancel(cli.SignalError{Signal: sig})
	}()

	os.Exit(cli.Main(ctx, cli.OSEnv(), os.Args[1:]))
}
