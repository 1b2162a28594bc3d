package main

import (
	"context"
	"crypto/sha256"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/moatproject/moat/internal/ca"
)

const caUsage = `usage: moat ca init|path|export [--bundle] [--config FILE] [--data DIR]

  init             create moat's CA in the data dir (kept if it exists) and
                   write the combined bundle (system roots + moat's CA)
  path             print the path of moat's CA certificate
  export           print moat's CA certificate (PEM)
  export --bundle  write the combined bundle and print its path
`

// runCA implements `moat ca`.
func runCA(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("moat ca", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, caUsage); fs.PrintDefaults() }
	var cf commonFlags
	cf.register(fs)
	bundle := fs.Bool("bundle", false, "export: write the combined bundle and print its path")
	sub, err := parseSubcommand(fs, args)
	if err != nil {
		return exitError
	}
	cfg, err := cf.load()
	if err != nil {
		fmt.Fprintln(stderr, "moat:", err)
		return exitError
	}
	dir := cfg.Server.DataDir
	switch sub {
	case "init":
		c, err := ca.Init(dir)
		if err != nil {
			fmt.Fprintln(stderr, "moat:", err)
			return exitError
		}
		fmt.Fprintf(stdout, "moat CA: %s\nSHA-256 fingerprint: %s\n", c.CertPath(), fingerprint(c.Certificate().Raw))
		if err := c.CombinedBundle(c.BundlePath()); err != nil {
			fmt.Fprintln(stderr, "moat: warning:", err)
		} else {
			fmt.Fprintf(stdout, "combined bundle: %s\n", c.BundlePath())
		}
		fmt.Fprintln(stdout, "Next: `moat setup <client> --mode proxy` prints how each client trusts it.")
		return exitOK
	case "path", "export":
		c, err := ca.Load(dir)
		if errors.Is(err, ca.ErrNoCA) {
			fmt.Fprintf(stderr, "moat: no CA in %s yet; run `moat ca init` (or start `moat serve`, which creates it)\n", dir)
			return exitError
		}
		if err != nil {
			fmt.Fprintln(stderr, "moat:", err)
			return exitError
		}
		switch {
		case sub == "path":
			fmt.Fprintln(stdout, c.CertPath())
		case *bundle:
			if err := c.CombinedBundle(c.BundlePath()); err != nil {
				fmt.Fprintln(stderr, "moat:", err)
				return exitError
			}
			fmt.Fprintln(stdout, c.BundlePath())
		default:
			_, _ = stdout.Write(c.CertPEM())
		}
		return exitOK
	default:
		fmt.Fprintf(stderr, "moat ca: unknown subcommand %q\n\n%s", sub, caUsage)
		return exitError
	}
}

// parseSubcommand parses flags placed before and after the subcommand
// ("moat ca --data D export --bundle" and "moat ca export --data D") and
// returns the subcommand. Exactly one positional argument is allowed.
func parseSubcommand(fs *flag.FlagSet, args []string) (string, error) {
	if err := fs.Parse(args); err != nil {
		return "", err
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return "", errors.New("no subcommand")
	}
	sub := fs.Arg(0)
	if err := fs.Parse(fs.Args()[1:]); err != nil {
		return "", err
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(fs.Output(), "%s: unexpected argument %q\n", fs.Name(), fs.Arg(0))
		return "", errors.New("extra arguments")
	}
	return sub, nil
}

func fingerprint(der []byte) string {
	sum := sha256.Sum256(der)
	parts := make([]string, len(sum))
	for i, b := range sum {
		parts[i] = fmt.Sprintf("%02X", b)
	}
	return strings.Join(parts, ":")
}
