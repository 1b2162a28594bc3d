// Package config owns moat's configuration: the YAML file (strict keys),
// environment overrides named MOAT_<SECTION>_<KEY>, and the embedded
// defaults. Flags are applied by cmd/moat on top of the result.
//
// Precedence, lowest first: Default() → YAML file → environment → flags.
package config

import (
	"bytes"
	"encoding"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/moatproject/moat/policy"
)

// Config is the whole configuration. Every key is documented in
// config.example.yaml, which a test parses strictly.
type Config struct {
	Server   Server        `yaml:"server"`
	NPM      NPM           `yaml:"npm"`
	PyPI     PyPI          `yaml:"pypi"`
	Upstream Upstream      `yaml:"upstream"`
	Scan     Scan          `yaml:"scan"`
	Policy   policy.Config `yaml:"policy"`
	Proxy    Proxy         `yaml:"proxy"`
	Log      Log           `yaml:"log"`
}

// Server configures the registry-mode listener and the data directory.
type Server struct {
	Listen      string `yaml:"listen"`       // registry mode (npm/PyPI roots, admin API)
	ProxyListen string `yaml:"proxy_listen"` // transparent HTTP(S) forward proxy; "" or "off" disables it
	DataDir     string `yaml:"data_dir"`     // moat.db, blobs/, ca/, audit log
	// PublicURL is the base URL clients reach moat on, written into rewritten
	// metadata. Empty: derived from each request's Host header.
	PublicURL string `yaml:"public_url"`
	// MemoryLimitBytes is the soft limit on the Go runtime's memory that
	// moat serve sets (runtime/debug.SetMemoryLimit): past it the garbage
	// collector runs more often instead of letting the heap double. 0: no
	// limit. The GOMEMLIMIT environment variable, when set, wins. The
	// default, 80 MiB, measured on a cold install of a 471-package app:
	// peak RSS 169-183 MB against 214-218 MB at 128 MiB, install time
	// unchanged within noise; a single larger document only makes the
	// collector work harder for a while (it is a soft limit).
	MemoryLimitBytes int64 `yaml:"memory_limit_bytes"`
	// GCPercent is the garbage collector's target heap growth over the live
	// heap that moat serve sets (runtime/debug.SetGCPercent); 0 leaves the
	// runtime's default (100). The GOGC environment variable, when set,
	// wins. The default, 50, keeps the heap nearer what is live: peak RSS
	// over a cold install of the bench app, median of 3, 161 MB against
	// 179 MB at 100; the price is collector CPU on the cached path (6-17 %
	// fewer requests/s in 4 paired runs at c = 64/256, bench/README.md). It
	// applies while at least one scan is in flight (IdleGCPercent otherwise).
	GCPercent int `yaml:"gc_percent"`
	// IdleGCPercent is the GC percent while no scan is in flight, when moat
	// serves cached artifacts and metadata: little is live and a low target
	// only makes the collector run more often. Default 100 (Go's); 0: the
	// same as GCPercent. GOGC, when set, wins over both.
	IdleGCPercent int `yaml:"idle_gc_percent"`
}

// NPM configures the npm registry root.
type NPM struct {
	// Upstream registry URL. Empty: the registry npm itself is configured
	// with (`npm config get registry`), resolved at start-up.
	Upstream string `yaml:"upstream"`
	// MetadataMaxAge is how long a cached packument is served without
	// revalidating it upstream.
	MetadataMaxAge time.Duration `yaml:"metadata_max_age"`
	// Token, if set, is sent upstream as a bearer token (private registries).
	Token string `yaml:"token"`
	// Prefetch is how many tarballs moat fetches and scans ahead of the
	// client at once: serving a packument queues the version npm will most
	// likely resolve (see proxy/prefetch.go). 0 turns prefetching off.
	Prefetch int `yaml:"prefetch"`
}

// PyPI configures the PyPI simple-index root.
type PyPI struct {
	Upstream       string        `yaml:"upstream"`
	MetadataMaxAge time.Duration `yaml:"metadata_max_age"`
	// MissingHash decides files whose index entry carries no usable hash:
	// "block" (default) or "allow".
	MissingHash string `yaml:"missing_hash"`
}

// Upstream configures how moat talks to registries.
type Upstream struct {
	Timeout          time.Duration `yaml:"timeout"`          // whole metadata request
	ArtifactTimeout  time.Duration `yaml:"artifact_timeout"` // whole artifact download
	MaxArtifactBytes int64         `yaml:"max_artifact_bytes"`
	MaxMetadataBytes int64         `yaml:"max_metadata_bytes"`
	CAFile           string        `yaml:"ca_file"` // extra roots, added to the system pool
}

// Scan configures the scanner.
type Scan struct {
	Timeout time.Duration `yaml:"timeout"`
	Workers int           `yaml:"workers"` // concurrent scans; 0 = number of CPUs
	// Model is a directory holding model.onnx, vocab.txt and manifest.json.
	// Empty: the model embedded in the binary.
	Model string `yaml:"model"`
	// ORTLibrary is the path of libonnxruntime.so. Empty: $MOAT_ORT_LIB, then
	// lib/ next to the executable, then ./lib/.
	ORTLibrary string `yaml:"ort_library"`
	// Classifier: "model" (default) or "rules" (the transparent rule layer).
	Classifier string `yaml:"classifier"`
	// ParseBudgetBytes caps the source bytes one scan parses with
	// tree-sitter; the rest of the package's code gets the faster lexical
	// pass (every byte is still analysed). 0: the scanner's default
	// (scan.DefaultParseBudget); negative: no cap.
	ParseBudgetBytes int64 `yaml:"parse_budget_bytes"`
	// MaxUnits caps the execution units the model scores apart from the
	// whole package. 0: the scanner's default; negative: none.
	MaxUnits int `yaml:"max_units"`
}

// Proxy configures transparent (forward proxy) mode.
type Proxy struct {
	// Intercept lists extra host names decrypted and routed through the gate
	// (the npm upstream's host and the PyPI hosts are always intercepted).
	Intercept []string `yaml:"intercept"`
	// Egress decides other hosts: "tunnel" (default) or "deny".
	Egress string `yaml:"egress"`
	// EgressAllow lists hosts tunnelled even when Egress is "deny".
	EgressAllow []string `yaml:"egress_allow"`
	// AllowClients lists client networks (CIDR) allowed to use the proxy; it is
	// required when proxy_listen is not a loopback address.
	AllowClients []string `yaml:"allow_clients"`
	// Parent is an optional parent proxy URL for moat's own upstream traffic;
	// empty uses moat's HTTPS_PROXY/HTTP_PROXY environment.
	Parent string `yaml:"parent"`
}

// Log configures logging.
type Log struct {
	Level  string `yaml:"level"`  // debug, info, warn, error
	Format string `yaml:"format"` // text or json
}

// Default returns the embedded defaults.
func Default() Config {
	return Config{
		Server: Server{
			Listen:      "127.0.0.1:7878",
			ProxyListen: "127.0.0.1:7879",
			DataDir:     DefaultDataDir(),
			// The heap's steady state during a cold install of a large app
			// is about 100 MB, almost all of it packuments in flight.
			MemoryLimitBytes: 80 << 20,
			GCPercent:        50,
			IdleGCPercent:    100,
		},
		NPM:  NPM{MetadataMaxAge: 5 * time.Minute, Prefetch: 4},
		PyPI: PyPI{Upstream: "https://pypi.org/simple/", MetadataMaxAge: 5 * time.Minute, MissingHash: "block"},
		Upstream: Upstream{
			Timeout:          30 * time.Second,
			ArtifactTimeout:  5 * time.Minute,
			MaxArtifactBytes: 256 << 20,
			MaxMetadataBytes: 128 << 20,
		},
		Scan:   Scan{Timeout: 20 * time.Second, Classifier: "model"},
		Policy: policy.Default(),
		Proxy:  Proxy{Egress: "tunnel"},
		Log:    Log{Level: "info", Format: "text"},
	}
}

// DefaultDataDir is $XDG_DATA_HOME/moat, else ~/.local/share/moat.
func DefaultDataDir() string {
	if d := os.Getenv("XDG_DATA_HOME"); d != "" {
		return filepath.Join(d, "moat")
	}
	if h, err := os.UserHomeDir(); err == nil {
		return filepath.Join(h, ".local", "share", "moat")
	}
	return ".moat"
}

// Load reads the YAML file at path (if path is not empty) over the defaults,
// then applies environment overrides from environ (os.Environ() form).
func Load(path string, environ []string) (Config, error) {
	cfg := Default()
	if path != "" {
		f, err := os.Open(path)
		if err != nil {
			return cfg, fmt.Errorf("config: %w", err)
		}
		defer f.Close()
		if err := Decode(f, &cfg); err != nil {
			return cfg, fmt.Errorf("config %s: %w", path, err)
		}
	}
	if err := ApplyEnv(&cfg, environ); err != nil {
		return cfg, err
	}
	if cfg.Server.DataDir == "" {
		cfg.Server.DataDir = DefaultDataDir()
	}
	return cfg, nil
}

// Decode parses YAML strictly (unknown keys are errors) into cfg.
func Decode(r io.Reader, cfg *Config) error {
	data, err := io.ReadAll(io.LimitReader(r, 4<<20))
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(cfg); err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	return nil
}

// EnvPrefix starts every environment override.
const EnvPrefix = "MOAT_"

// ApplyEnv applies MOAT_<SECTION>_<KEY> variables (e.g. MOAT_NPM_UPSTREAM,
// MOAT_POLICY_MODE, MOAT_SERVER_LISTEN). Scalars, durations and
// comma-separated string lists are supported. An unknown MOAT_ variable that
// looks like a section key is an error, so typos do not pass silently;
// variables moat reads elsewhere (MOAT_ORT_LIB, MOAT_DATA_CACHE, ...) are
// listed in passThroughEnv.
func ApplyEnv(cfg *Config, environ []string) error {
	fields := envFields(reflect.ValueOf(cfg).Elem())
	for _, kv := range environ {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || !strings.HasPrefix(k, EnvPrefix) {
			continue
		}
		f, known := fields[k]
		if !known {
			if passThroughEnv[k] || !sectionPrefixed(k) {
				continue
			}
			return fmt.Errorf("config: unknown environment variable %s", k)
		}
		if err := setScalar(f, v); err != nil {
			return fmt.Errorf("config: %s: %w", k, err)
		}
	}
	return nil
}

var passThroughEnv = map[string]bool{
	"MOAT_ORT_LIB": true, "MOAT_DATA_CACHE": true, "MOAT_REQUIRE_ORT": true, "MOAT_CORPUS": true,
}

var sections = []string{"SERVER", "NPM", "PYPI", "UPSTREAM", "SCAN", "POLICY", "PROXY", "LOG"}

func sectionPrefixed(k string) bool {
	for _, s := range sections {
		if strings.HasPrefix(k, EnvPrefix+s+"_") {
			return true
		}
	}
	return false
}

// envFields maps MOAT_<SECTION>_<KEY> to the settable leaf fields of the two
// top levels of cfg.
func envFields(root reflect.Value) map[string]reflect.Value {
	out := map[string]reflect.Value{}
	rt := root.Type()
	for i := 0; i < rt.NumField(); i++ {
		sec := yamlName(rt.Field(i))
		sv := root.Field(i)
		if sv.Kind() != reflect.Struct {
			continue
		}
		st := sv.Type()
		for j := 0; j < st.NumField(); j++ {
			if !st.Field(j).IsExported() {
				continue
			}
			key := yamlName(st.Field(j))
			if key == "-" || key == "" {
				continue
			}
			fv := sv.Field(j)
			if isScalar(fv) {
				out[EnvPrefix+strings.ToUpper(sec+"_"+key)] = fv
			}
		}
	}
	return out
}

func yamlName(f reflect.StructField) string {
	tag := f.Tag.Get("yaml")
	name, _, _ := strings.Cut(tag, ",")
	if name == "" {
		return strings.ToLower(f.Name)
	}
	return name
}

var durationType = reflect.TypeOf(time.Duration(0))

func isScalar(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.String, reflect.Bool, reflect.Int, reflect.Int64, reflect.Float64:
		return true
	case reflect.Pointer:
		return false
	case reflect.Slice:
		return v.Type().Elem().Kind() == reflect.String
	}
	return false
}

func setScalar(f reflect.Value, s string) error {
	if tu, ok := f.Addr().Interface().(encoding.TextUnmarshaler); ok {
		return tu.UnmarshalText([]byte(s))
	}
	if f.Type() == durationType {
		d, err := time.ParseDuration(s)
		if err != nil {
			return err
		}
		f.SetInt(int64(d))
		return nil
	}
	switch f.Kind() {
	case reflect.String:
		f.SetString(s)
	case reflect.Bool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return err
		}
		f.SetBool(b)
	case reflect.Int, reflect.Int64:
		n, err := parseSize(s)
		if err != nil {
			return err
		}
		f.SetInt(n)
	case reflect.Float64:
		x, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return err
		}
		f.SetFloat(x)
	case reflect.Slice:
		var parts []string
		for _, p := range strings.Split(s, ",") {
			if p = strings.TrimSpace(p); p != "" {
				parts = append(parts, p)
			}
		}
		f.Set(reflect.ValueOf(parts))
	default:
		return fmt.Errorf("unsupported type %s", f.Type())
	}
	return nil
}

// parseSize accepts plain integers and KiB/MiB/GiB suffixes.
func parseSize(s string) (int64, error) {
	mult := int64(1)
	for suf, m := range map[string]int64{"KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30} {
		if strings.HasSuffix(s, suf) {
			s, mult = strings.TrimSuffix(s, suf), m
			break
		}
	}
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil {
		return 0, err
	}
	return n * mult, nil
}

// Validate reports the first problem with cfg, precisely.
func (c *Config) Validate() error {
	if _, _, err := net.SplitHostPort(c.Server.Listen); err != nil {
		return fmt.Errorf("server.listen %q: %w", c.Server.Listen, err)
	}
	if pl := c.Server.ProxyListen; pl != "" && pl != "off" {
		if _, _, err := net.SplitHostPort(pl); err != nil {
			return fmt.Errorf("server.proxy_listen %q: %w", pl, err)
		}
	}
	if c.Server.DataDir == "" {
		return errors.New("server.data_dir is empty")
	}
	if c.Server.PublicURL != "" {
		if err := checkURL(c.Server.PublicURL); err != nil {
			return fmt.Errorf("server.public_url: %w", err)
		}
	}
	if c.NPM.Upstream != "" {
		if err := checkURL(c.NPM.Upstream); err != nil {
			return fmt.Errorf("npm.upstream: %w", err)
		}
	}
	if err := checkURL(c.PyPI.Upstream); err != nil {
		return fmt.Errorf("pypi.upstream: %w", err)
	}
	switch c.PyPI.MissingHash {
	case "block", "allow":
	default:
		return fmt.Errorf("pypi.missing_hash %q: want block or allow", c.PyPI.MissingHash)
	}
	if c.Server.MemoryLimitBytes < 0 {
		return errors.New("server.memory_limit_bytes must not be negative (0: no limit)")
	}
	if c.Server.GCPercent < 0 {
		return errors.New("server.gc_percent must not be negative (0: the Go runtime's default)")
	}
	if c.Server.IdleGCPercent < 0 {
		return errors.New("server.idle_gc_percent must not be negative (0: the same as gc_percent)")
	}
	if c.Upstream.Timeout <= 0 || c.Upstream.ArtifactTimeout <= 0 {
		return errors.New("upstream.timeout and upstream.artifact_timeout must be positive")
	}
	if c.Upstream.MaxArtifactBytes <= 0 || c.Upstream.MaxMetadataBytes <= 0 {
		return errors.New("upstream.max_artifact_bytes and upstream.max_metadata_bytes must be positive")
	}
	if c.Scan.Timeout <= 0 {
		return errors.New("scan.timeout must be positive")
	}
	switch c.Scan.Classifier {
	case "model", "rules":
	default:
		return fmt.Errorf("scan.classifier %q: want model or rules", c.Scan.Classifier)
	}
	switch c.Proxy.Egress {
	case "tunnel", "deny":
	default:
		return fmt.Errorf("proxy.egress %q: want tunnel or deny", c.Proxy.Egress)
	}
	for _, n := range c.Proxy.AllowClients {
		if _, _, err := net.ParseCIDR(n); err != nil {
			return fmt.Errorf("proxy.allow_clients: %w", err)
		}
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		return fmt.Errorf("log.level %q: want debug, info, warn or error", c.Log.Level)
	}
	switch c.Log.Format {
	case "text", "json":
	default:
		return fmt.Errorf("log.format %q: want text or json", c.Log.Format)
	}
	if err := c.Policy.Validate(); err != nil {
		return fmt.Errorf("policy: %w", err)
	}
	return nil
}

func checkURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return err
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("%q: scheme must be http or https", s)
	}
	if u.Host == "" {
		return fmt.Errorf("%q: no host", s)
	}
	return nil
}

func reflectValue(c *Config) reflect.Value { return reflect.ValueOf(c).Elem() }
