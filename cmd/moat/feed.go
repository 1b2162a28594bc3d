package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strings"

	"github.com/moatproject/moat/internal/feed"
	"github.com/moatproject/moat/internal/store"
	"github.com/moatproject/moat/proxy/admin"
)

const feedUsage = `usage: moat feed import PATH [--source NAME] [flags]

Imports OSV known-malicious-package records (a folder, or a .zip of the
ossf/malicious-packages repository) for npm and PyPI. The records replace
those of the source (default "osv") in the running server, through its admin
API; when no server is running, they are written to the store in --data.

flags:
  --source NAME  feed source to replace (letters, digits, '.', '_', '-'; default osv)
  --server URL   the moat server (default: http:// + server.listen from the config)
  --token TOKEN  admin token (default: $MOAT_ADMIN_TOKEN, then <data>/admin.token)
  --config FILE, --data DIR
`

// runFeed implements `moat feed`.
func runFeed(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		w := stderr
		if len(args) > 0 {
			w = stdout
		}
		fmt.Fprint(w, feedUsage)
		if len(args) == 0 {
			return exitError
		}
		return exitOK
	}
	if args[0] != "import" {
		fmt.Fprintf(stderr, "moat feed: unknown command %q\n\n%s", args[0], feedUsage)
		return exitError
	}
	fs := flag.NewFlagSet("moat feed import", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, feedUsage) }
	var cf clientFlags
	cf.register(fs)
	source := fs.String("source", "osv", "feed source `name` to replace")
	pos, err := parseInterleaved(fs, args[1:])
	if err != nil {
		return exitError
	}
	if len(pos) != 1 {
		fmt.Fprint(stderr, "moat feed import: want one PATH\n\n"+feedUsage)
		return exitError
	}
	if !admin.ValidSourceName(*source) {
		fmt.Fprintf(stderr, "moat: --source %q: want 1-64 letters, digits, '.', '_' or '-'\n", *source)
		return exitError
	}
	ac, cfg, err := cf.client()
	if err != nil {
		fmt.Fprintln(stderr, "moat:", err)
		return exitError
	}
	if err := importFeed(ctx, pos[0], *source, ac, cfg.Server.DataDir, stderr); err != nil {
		fmt.Fprintln(stderr, "moat:", err)
		return exitError
	}
	return exitOK
}

// importFeed parses path locally, then hands the records to the server, or
// to the store when no server is running.
func importFeed(ctx context.Context, path, source string, ac *adminClient, dataDir string, stderr io.Writer) error {
	tty := isTerminal(stderr)
	if tty {
		fmt.Fprintf(stderr, "moat feed: reading %s ...\r", path)
	}
	recs, err := feed.Import(ctx, path)
	var skipped *feed.SkippedError
	if err != nil && !errors.As(err, &skipped) {
		if tty {
			fmt.Fprintln(stderr)
		}
		return err
	}
	if tty {
		fmt.Fprintf(stderr, "moat feed: read %d records from %s, storing ...\r", len(recs), path)
	}

	where, err := postFeed(ctx, ac, source, recs)
	if errors.Is(err, errServerDown) {
		where, err = storeFeed(ctx, dataDir, source, recs, ac.base)
	}
	if tty {
		fmt.Fprint(stderr, "\r\033[K")
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "moat feed: imported %d records (%s) from %s into source %q %s", len(recs), countByEcosystem(recs), path, source, where)
	if skipped != nil {
		fmt.Fprintf(stderr, "; skipped %d malformed document(s)", skipped.Count)
	}
	fmt.Fprintln(stderr)
	if skipped != nil {
		for i, e := range skipped.Errs {
			if i == 3 {
				fmt.Fprintf(stderr, "  ... %d more\n", skipped.Count-3)
				break
			}
			fmt.Fprintf(stderr, "  skipped: %s\n", clean(e.Error()))
		}
	}
	return nil
}

// postFeed streams the records to the server's admin API.
func postFeed(ctx context.Context, ac *adminClient, source string, recs []feed.Record) (string, error) {
	pr, pw := io.Pipe()
	go func() {
		pw.CloseWithError(json.NewEncoder(pw).Encode(recs))
	}()
	defer pr.Close()
	var res admin.FeedResult
	if err := ac.do(ctx, http.MethodPost, "/api/v1/feeds/"+url.PathEscape(source), pr, &res); err != nil {
		return "", err
	}
	if res.Records != len(recs) {
		return "", fmt.Errorf("the server stored %d records, want %d", res.Records, len(recs))
	}
	return "via the server at " + ac.base, nil
}

// storeFeed writes the records straight into the store (no server running).
func storeFeed(ctx context.Context, dataDir, source string, recs []feed.Record, server string) (string, error) {
	st, err := store.Open(dataDir, store.Options{})
	if errors.Is(err, store.ErrLocked) {
		return "", fmt.Errorf("no server answers at %s, but a moat process holds the store in %s: pass that server's address with --server", server, dataDir)
	}
	if err != nil {
		return "", err
	}
	if err := st.PutFeedRecords(ctx, source, recs); err != nil {
		st.Close()
		return "", err
	}
	if err := st.Close(); err != nil {
		return "", err
	}
	return "in " + dataDir + " (offline: no server at " + server + ")", nil
}

func countByEcosystem(recs []feed.Record) string {
	n := map[string]int{}
	for _, r := range recs {
		n[string(r.Ecosystem)]++
	}
	if len(n) == 0 {
		return "none for npm or PyPI"
	}
	keys := make([]string, 0, len(n))
	for k := range n {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s %d", k, n[k]))
	}
	return strings.Join(parts, ", ")
}

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
