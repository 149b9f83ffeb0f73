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
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt,
		syscall.SIGTERM)
	code := cli.Main(ctx, cli.OSEnv(), os.Args[1:])
	stop()
	os.Exit(code)
}
