// Command moat is a caching, scanning proxy between package managers (npm,
// pip and friends) and their registries. This package owns only flags,
// configuration loading, wiring, signals and exit codes; the work lives in
// proxy/, scan/, policy/ and internal/.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "0.1.0-dev"

// Exit codes scripts can rely on.
const (
	exitOK      = 0
	exitFlagged = 1 // moat scan: at least one input judged malicious
	exitError   = 2 // usage, configuration or runtime error
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

const usage = `moat - a caching proxy that scans npm and PyPI packages before your client gets them

usage:
  moat serve   [--config FILE] [--listen ADDR] [--proxy-listen ADDR] [--data DIR]
  moat scan    [--json] [--explain] [--ecosystem npm|pypi] PATH...
  moat ca      init | path | export [--bundle]
  moat setup   npm | yarn | pnpm | pip | uv | poetry | env [--mode registry|proxy] [--apply]
  moat verdict list | show | allow | deny | rm | overrides ...
  moat feed    import PATH
  moat dataset --out FILE.jsonl [--label malicious|benign] INPUT...
  moat version

Run 'moat COMMAND -h' for a command's flags.
`

// run dispatches a subcommand and returns the process exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitError
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "serve":
		return runServe(ctx, rest, stdout, stderr)
	case "scan":
		return runScan(ctx, rest, stdout, stderr)
	case "dataset":
		return runDataset(ctx, rest, stdout, stderr)
	case "ca":
		return runCA(ctx, rest, stdout, stderr)
	case "setup":
		return runSetup(ctx, rest, stdout, stderr)
	case "verdict":
		return runVerdict(ctx, rest, stdout, stderr)
	case "feed":
		return runFeed(ctx, rest, stdout, stderr)
	case "version", "--version", "-v":
		fmt.Fprintf(stdout, "moat %s\n", version)
		return exitOK
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return exitOK
	default:
		fmt.Fprintf(stderr, "moat: unknown command %q\n\n%s", cmd, usage)
		return exitError
	}
}
