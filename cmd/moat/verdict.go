package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"
	"unicode"

	"github.com/moatproject/moat/internal/audit"
	"github.com/moatproject/moat/internal/config"
	"github.com/moatproject/moat/internal/pep440"
	"github.com/moatproject/moat/internal/semver"
	"github.com/moatproject/moat/policy"
	"github.com/moatproject/moat/proxy/admin"
	"github.com/moatproject/moat/scan"
)

const verdictUsage = `usage: moat verdict COMMAND [flags]

Talks to the running moat server's admin API.

commands:
  list [--json] [--blocked] [--limit N]          recent decisions, newest first
  show SHA256|ECO/NAME[@VERSION] [--json]        a scan report, or a package's reports and decisions
  allow ECO NAME[@VERSION|@RANGE] [--reason TEXT] let a package (version, range) through
  deny  ECO NAME[@VERSION|@RANGE] [--reason TEXT] refuse a package (version, range)
  rm ID                                          remove an override
  overrides [--json]                             list overrides

flags of every command:
  --server URL   the moat server (default: http:// + server.listen from the config)
  --token TOKEN  admin token for allow/deny/rm (default: $MOAT_ADMIN_TOKEN, then <data>/admin.token)
  --config FILE, --data DIR
`

// errServerDown marks a request that found no server listening.
var errServerDown = errors.New("no moat server answers")

// apiStatusError is an error answer of the admin API.
type apiStatusError struct {
	Code int
	Msg  string
}

func (e *apiStatusError) Error() string {
	return fmt.Sprintf("server answered %d %s: %s", e.Code, http.StatusText(e.Code), e.Msg)
}

// clientFlags are the flags of every command that talks to the admin API.
type clientFlags struct {
	common commonFlags
	server string
	token  string
}

func (c *clientFlags) register(fs *flag.FlagSet) {
	c.common.register(fs)
	fs.StringVar(&c.server, "server", "", "moat server `URL` (default: http:// + server.listen)")
	fs.StringVar(&c.token, "token", "", "admin `token` (default: $MOAT_ADMIN_TOKEN, then <data>/admin.token)")
}

// client resolves the server URL and the token source from flags, config
// and environment.
func (c *clientFlags) client() (*adminClient, config.Config, error) {
	cfg, err := c.common.load()
	if err != nil {
		return nil, cfg, err
	}
	base := c.server
	if base == "" {
		base = listenURL(cfg.Server.Listen)
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, cfg, fmt.Errorf("--server %q: want an http(s) URL such as http://127.0.0.1:7878", base)
	}
	ac := &adminClient{
		base:    strings.TrimSuffix(u.String(), "/"),
		token:   c.token,
		dataDir: cfg.Server.DataDir,
		http:    &http.Client{Timeout: 10 * time.Minute},
	}
	if ac.token == "" {
		ac.token = os.Getenv("MOAT_ADMIN_TOKEN")
	}
	return ac, cfg, nil
}

// listenURL turns a listen address into a URL to reach it on this host.
func listenURL(listen string) string {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return "http://" + listen
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
		if ip != nil && ip.To4() == nil {
			host = "::1"
		}
	}
	return "http://" + net.JoinHostPort(host, port)
}

// adminClient calls the admin API of a running moat.
type adminClient struct {
	base    string
	token   string // "" until needed: read from dataDir
	dataDir string
	http    *http.Client
}

// writeToken returns the token for write requests.
func (c *adminClient) writeToken() (string, error) {
	if c.token != "" {
		return c.token, nil
	}
	tok, err := admin.ReadToken(c.dataDir)
	if err != nil {
		return "", fmt.Errorf("%w; pass --token, set MOAT_ADMIN_TOKEN, or point --data at the server's data dir", err)
	}
	c.token = tok
	return tok, nil
}

// do sends a request with body (JSON-encoded unless it is an io.Reader)
// and decodes a 2xx JSON answer into out (when not nil).
func (c *adminClient) do(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case io.Reader:
		rd = b
	default:
		buf, err := json.Marshal(b)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(buf)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	// Without a token a write still goes out: a server that is down then
	// reads as down (feed import falls back to the store), and one that is
	// up refuses it with 401, explained below.
	var tokErr error
	if method != http.MethodGet {
		var tok string
		if tok, tokErr = c.writeToken(); tokErr == nil {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
	}
	resp, err := c.http.Do(req)
	if err != nil {
		if isConnRefused(err) {
			return fmt.Errorf("%w at %s (is `moat serve` running? pass --server URL or set server.listen): %w", errServerDown, c.base, err)
		}
		return fmt.Errorf("%s %s: %w", method, c.base+path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, c.base+path, err)
	}
	if resp.StatusCode/100 != 2 {
		e := &apiStatusError{Code: resp.StatusCode}
		var body struct {
			Error string `json:"error"`
		}
		if json.Unmarshal(data, &body) == nil && body.Error != "" {
			e.Msg = body.Error
		} else {
			line, _, _ := strings.Cut(strings.TrimSpace(string(data)), "\n")
			e.Msg = line
		}
		if resp.StatusCode == http.StatusUnauthorized {
			if tokErr != nil {
				return fmt.Errorf("%w: %w", e, tokErr)
			}
			return fmt.Errorf("%w (is the token the one in the server's data dir, %s?)", e, admin.TokenFile)
		}
		return e
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("%s %s: unexpected answer: %w", method, c.base+path, err)
		}
	}
	return nil
}

func isConnRefused(err error) bool {
	if errors.Is(err, syscall.ECONNREFUSED) {
		return true
	}
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

// parseInterleaved parses flags that may come before, between or after the
// positional arguments, which it returns ("--" ends the flags).
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if consumed := len(args) - len(rest); consumed > 0 && args[consumed-1] == "--" {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// runVerdict implements `moat verdict`.
func runVerdict(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, verdictUsage)
		return exitError
	}
	sub, rest := args[0], args[1:]
	if sub == "help" || sub == "-h" || sub == "--help" {
		fmt.Fprint(stdout, verdictUsage)
		return exitOK
	}
	fs := flag.NewFlagSet("moat verdict "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, verdictUsage) }
	var cf clientFlags
	cf.register(fs)
	var (
		asJSON  bool
		blocked bool
		limit   int
		reason  string
	)
	switch sub {
	case "list":
		fs.BoolVar(&asJSON, "json", false, "print JSON")
		fs.BoolVar(&blocked, "blocked", false, "only blocked decisions")
		fs.IntVar(&limit, "limit", 50, "at most `N` decisions")
	case "show", "overrides":
		fs.BoolVar(&asJSON, "json", false, "print JSON")
	case "allow", "deny":
		fs.StringVar(&reason, "reason", "", "why (shown to clients and on the status page)")
		fs.BoolVar(&asJSON, "json", false, "print the stored rule as JSON")
	case "rm":
	default:
		fmt.Fprintf(stderr, "moat verdict: unknown command %q\n\n%s", sub, verdictUsage)
		return exitError
	}
	pos, err := parseInterleaved(fs, rest)
	if err != nil {
		return exitError
	}
	ac, _, err := cf.client()
	if err != nil {
		fmt.Fprintln(stderr, "moat:", err)
		return exitError
	}
	v := verdictCmd{c: ac, out: stdout, json: asJSON}
	switch sub {
	case "list":
		err = wantArgs(pos, 0, "list takes no arguments")
		if err == nil {
			err = v.list(ctx, blocked, limit)
		}
	case "show":
		err = wantArgs(pos, 1, "show needs SHA256 or ECO/NAME[@VERSION]")
		if err == nil {
			err = v.show(ctx, pos[0])
		}
	case "allow", "deny":
		var rule admin.OverrideRequest
		rule, err = parseTarget(pos)
		if err == nil {
			rule.Action, rule.Reason = sub, reason
			err = v.put(ctx, rule)
		}
	case "rm":
		err = wantArgs(pos, 1, "rm needs an override ID (see `moat verdict overrides`)")
		if err == nil {
			err = v.rm(ctx, pos[0])
		}
	case "overrides":
		err = wantArgs(pos, 0, "overrides takes no arguments")
		if err == nil {
			err = v.overrides(ctx)
		}
	}
	if err != nil {
		fmt.Fprintln(stderr, "moat:", err)
		return exitError
	}
	return exitOK
}

func wantArgs(pos []string, n int, msg string) error {
	if len(pos) != n {
		return errors.New(msg)
	}
	return nil
}

// parseTarget reads `ECO NAME[@VERSION|@RANGE]` (or `ECO/NAME[@...]`): a
// spec that parses as an exact version of the ecosystem is a version,
// anything else a range ("^1.2", "~=2.31", ">=1 <2").
func parseTarget(pos []string) (admin.OverrideRequest, error) {
	var eco, spec string
	switch len(pos) {
	case 1:
		var ok bool
		eco, spec, ok = strings.Cut(pos[0], "/")
		if !ok {
			return admin.OverrideRequest{}, errors.New("want ECO NAME[@VERSION|@RANGE], e.g. `npm left-pad@1.3.0`")
		}
	case 2:
		eco, spec = pos[0], pos[1]
	default:
		return admin.OverrideRequest{}, errors.New("want ECO NAME[@VERSION|@RANGE], e.g. `npm left-pad@1.3.0` (quote ranges with spaces)")
	}
	e := scan.Ecosystem(strings.ToLower(eco))
	if e != scan.NPM && e != scan.PyPI {
		return admin.OverrideRequest{}, fmt.Errorf("ecosystem %q: want npm or pypi", eco)
	}
	if strings.HasSuffix(strings.TrimSpace(spec), "@") {
		return admin.OverrideRequest{}, fmt.Errorf("%q: nothing after '@' (want NAME@VERSION or NAME@RANGE)", spec)
	}
	name, ver := splitNameVersion(spec)
	if name == "" || name == "@" {
		return admin.OverrideRequest{}, errors.New("package name is empty")
	}
	r := admin.OverrideRequest{Ecosystem: e, Package: name}
	if ver != "" {
		if exact, ok := exactVersion(e, ver); ok {
			r.Version = exact
		} else {
			r.Range = ver
		}
	}
	return r, nil
}

// splitNameVersion splits "name@version" at the last '@' that is not the
// leading one of a scoped npm name.
func splitNameVersion(s string) (name, version string) {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '@'); i > 0 {
		return s[:i], strings.TrimSpace(s[i+1:])
	}
	return s, ""
}

// exactVersion returns v as an exact version of eco, or false when v is
// a range. PyPI's "==1.0" is the exact version 1.0.
func exactVersion(eco scan.Ecosystem, v string) (string, bool) {
	switch eco {
	case scan.NPM:
		_, err := semver.Parse(v)
		return v, err == nil
	case scan.PyPI:
		v = strings.TrimPrefix(v, "==")
		if strings.ContainsAny(v, "=<>~!*, ") {
			return "", false
		}
		_, err := pep440.Parse(v)
		return v, err == nil
	}
	return "", false
}

// verdictCmd runs the subcommands against one server.
type verdictCmd struct {
	c    *adminClient
	out  io.Writer
	json bool
}

func (v verdictCmd) printJSON(x any) error {
	enc := json.NewEncoder(v.out)
	enc.SetIndent("", "  ")
	return enc.Encode(x)
}

func (v verdictCmd) list(ctx context.Context, blocked bool, limit int) error {
	q := url.Values{"limit": {strconv.Itoa(limit)}}
	if blocked {
		q.Set("action", "block")
	}
	var res admin.DecisionList
	if err := v.c.do(ctx, http.MethodGet, "/api/v1/decisions?"+q.Encode(), nil, &res); err != nil {
		return err
	}
	if v.json {
		return v.printJSON(res.Decisions)
	}
	if len(res.Decisions) == 0 {
		fmt.Fprintln(v.out, "no decisions")
		return nil
	}
	printDecisions(v.out, res.Decisions)
	return nil
}

func printDecisions(out io.Writer, ds []audit.Entry) {
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME\tACTION\tECOSYSTEM\tPACKAGE\tLAYER\tREASON\tSHA256")
	for _, d := range ds {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", d.Time.UTC().Format("2006-01-02 15:04:05Z"), clean(d.Action),
			clean(d.Ecosystem), clean(pkgVersion(d.Name, d.Version)), clean(d.Layer), clean(strings.Join(d.Reasons, "; ")), shortSHA(d.SHA256))
	}
	tw.Flush()
}

func (v verdictCmd) show(ctx context.Context, what string) error {
	if sha := strings.ToLower(what); len(sha) == 64 && strings.Trim(sha, "0123456789abcdef") == "" {
		var rep scan.Report
		if err := v.c.do(ctx, http.MethodGet, "/api/v1/reports/"+sha, nil, &rep); err != nil {
			return err
		}
		if v.json {
			return v.printJSON(rep)
		}
		v.printReport(&rep)
		return nil
	}
	eco, spec, ok := strings.Cut(what, "/")
	if !ok {
		return fmt.Errorf("show %q: want a sha256 or ECO/NAME[@VERSION] (e.g. npm/left-pad@1.3.0)", what)
	}
	name, version := splitNameVersion(spec)
	p := "/api/v1/packages/" + url.PathEscape(strings.ToLower(eco)) + "/" + escapeName(name)
	if version != "" {
		p += "?version=" + url.QueryEscape(version)
	}
	var pv admin.PackageView
	if err := v.c.do(ctx, http.MethodGet, p, nil, &pv); err != nil {
		return err
	}
	if v.json {
		return v.printJSON(pv)
	}
	fmt.Fprintf(v.out, "%s %s\n", clean(string(pv.Ecosystem)), clean(pkgVersion(pv.Name, pv.Version)))
	if len(pv.Overrides) > 0 {
		fmt.Fprintln(v.out, "\noverrides:")
		printRules(v.out, pv.Overrides)
	}
	fmt.Fprintln(v.out, "\nreports:")
	if len(pv.Reports) == 0 {
		fmt.Fprintln(v.out, "  none")
	} else {
		tw := tabwriter.NewWriter(v.out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "  VERSION\tVERDICT\tSCORE\tTHRESHOLD\tSHA256\tSCANNER")
		for _, r := range pv.Reports {
			fmt.Fprintf(tw, "  %s\t%s\t%.3f\t%.3f\t%s\t%s\n", clean(r.Version), clean(r.Verdict), r.Score, r.Threshold, r.SHA256, clean(r.ScannerVersion))
		}
		tw.Flush()
	}
	fmt.Fprintln(v.out, "\nrecent decisions:")
	if len(pv.Decisions) == 0 {
		fmt.Fprintln(v.out, "  none")
	} else {
		printDecisions(v.out, pv.Decisions)
	}
	return nil
}

// escapeName escapes a package name for the API path, keeping the scope
// separator of npm names.
func escapeName(name string) string {
	parts := strings.Split(name, "/")
	for i, p := range parts {
		parts[i] = url.PathEscape(p)
	}
	return strings.Join(parts, "/")
}

func (v verdictCmd) printReport(r *scan.Report) {
	fmt.Fprintf(v.out, "%s %s: %s (score %.3f, threshold %.3f)\n", clean(string(r.Ecosystem)), clean(pkgVersion(r.Name, r.Version)),
		clean(r.Verdict), r.Score, r.Threshold)
	fmt.Fprintf(v.out, "sha256   %s\nscanner  %s\nmodel    %s\n", r.SHA256, clean(r.ScannerVersion), clean(r.ModelVersion))
	if r.Error != "" {
		fmt.Fprintf(v.out, "error    %s\n", clean(r.Error))
	}
	if len(r.Findings) > 0 {
		fmt.Fprintln(v.out, "findings:")
		tw := tabwriter.NewWriter(v.out, 0, 4, 2, ' ', 0)
		for _, f := range r.Findings {
			loc := f.File
			if f.Line > 0 {
				loc += ":" + strconv.Itoa(f.Line)
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\n", clean(f.Feature), clean(loc), clean(f.Snippet))
		}
		tw.Flush()
	}
	if len(r.Sequence) > 0 {
		fmt.Fprintf(v.out, "sequence %s\n", clean(strings.Join(r.Sequence, " ")))
	}
	fmt.Fprintf(v.out, "page     %s/reports/%s\n", v.c.base, r.SHA256)
}

func (v verdictCmd) put(ctx context.Context, req admin.OverrideRequest) error {
	var rule policy.Rule
	if err := v.c.do(ctx, http.MethodPost, "/api/v1/overrides", req, &rule); err != nil {
		return err
	}
	if v.json {
		return v.printJSON(rule)
	}
	fmt.Fprintf(v.out, "%s %s %s (override %s)", ruleAction(rule), clean(string(rule.Ecosystem)), clean(ruleTarget(rule)), rule.ID)
	if rule.Reason != "" {
		fmt.Fprintf(v.out, ": %s", clean(rule.Reason))
	}
	fmt.Fprintln(v.out)
	return nil
}

func (v verdictCmd) rm(ctx context.Context, id string) error {
	if err := v.c.do(ctx, http.MethodDelete, "/api/v1/overrides/"+url.PathEscape(id), nil, nil); err != nil {
		return err
	}
	fmt.Fprintf(v.out, "removed override %s\n", clean(id))
	return nil
}

func (v verdictCmd) overrides(ctx context.Context) error {
	var res admin.OverrideList
	if err := v.c.do(ctx, http.MethodGet, "/api/v1/overrides", nil, &res); err != nil {
		return err
	}
	if v.json {
		return v.printJSON(res.Overrides)
	}
	if len(res.Overrides) == 0 {
		fmt.Fprintln(v.out, "no overrides")
		return nil
	}
	printRules(v.out, res.Overrides)
	return nil
}

func printRules(out io.Writer, rules []policy.Rule) {
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tACTION\tECOSYSTEM\tPACKAGE\tREASON\tCREATED")
	for _, r := range rules {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", clean(r.ID), ruleAction(r), clean(string(r.Ecosystem)), clean(ruleTarget(r)),
			clean(r.Reason), r.CreatedAt.UTC().Format("2006-01-02 15:04Z"))
	}
	tw.Flush()
}

func ruleAction(r policy.Rule) string {
	if r.Action == policy.ActionBlock {
		return "deny"
	}
	return r.Action.String()
}

func ruleTarget(r policy.Rule) string {
	switch {
	case r.Version != "":
		return r.Package + "@" + r.Version
	case r.Range != "":
		return r.Package + "@" + r.Range
	}
	return r.Package
}

func pkgVersion(name, version string) string {
	if version == "" {
		return name
	}
	return name + "@" + version
}

func shortSHA(s string) string {
	if len(s) > 12 {
		return s[:12]
	}
	return s
}

// clean makes server-supplied text (package names, reasons, snippets come
// from hostile packages) safe for a terminal: control characters, which
// could carry escape sequences, and bidi controls, which could disguise
// text, become '?'.
func clean(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) {
			return '?'
		}
		return r
	}, s)
}
