package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

func TestExampleIsStrictAndMatchesDefaults(t *testing.T) {
	cfg, err := Load(filepath.Join("..", "..", "config.example.yaml"), nil)
	if err != nil {
		t.Fatalf("config.example.yaml: %v", err)
	}
	got, _ := yaml.Marshal(cfg)
	want, _ := yaml.Marshal(Default())
	if string(got) != string(want) {
		t.Errorf("config.example.yaml differs from the embedded defaults:\n got %s\nwant %s", got, want)
	}
	cfg.NPM.Upstream = "http://127.0.0.1:1/"
	if err := cfg.Validate(); err != nil {
		t.Errorf("defaults do not validate: %v", err)
	}
}

func TestExampleDocumentsEveryKey(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "config.example.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for env := range envFields(reflectValue(&Config{})) {
		key := strings.ToLower(strings.TrimPrefix(env, EnvPrefix))
		_, field, _ := strings.Cut(key, "_")
		if !strings.Contains(string(b), field+":") {
			t.Errorf("config.example.yaml does not document %s (%s)", field, env)
		}
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	cases := map[string]string{
		"unknown key":     "server:\n  lisen: 127.0.0.1:1\n",
		"unknown section": "servr: {}\n",
		"bad duration":    "npm:\n  metadata_max_age: soon\n",
		"bad type":        "scan:\n  workers: many\n",
	}
	for name, yml := range cases {
		t.Run(name, func(t *testing.T) {
			p := filepath.Join(dir, strings.ReplaceAll(name, " ", "_")+".yaml")
			if err := os.WriteFile(p, []byte(yml), 0o600); err != nil {
				t.Fatal(err)
			}
			if _, err := Load(p, nil); err == nil {
				t.Errorf("Load accepted %q", yml)
			}
		})
	}
	if _, err := Load(filepath.Join(dir, "missing.yaml"), nil); err == nil {
		t.Error("Load accepted a missing file")
	}
}

func TestEnvOverrides(t *testing.T) {
	env := []string{
		"MOAT_NPM_UPSTREAM=http://127.0.0.1:9/",
		"MOAT_POLICY_MODE=warn",
		"MOAT_POLICY_MIN_RELEASE_AGE=48h",
		"MOAT_SERVER_LISTEN=127.0.0.1:9999",
		"MOAT_UPSTREAM_TIMEOUT=3s",
		"MOAT_UPSTREAM_MAX_ARTIFACT_BYTES=10MiB",
		"MOAT_PROXY_INTERCEPT=a.example.invalid, b.example.invalid",
		"MOAT_ORT_LIB=/nowhere/libonnxruntime.so",
		"PATH=/usr/bin",
	}
	cfg, err := Load("", env)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.NPM.Upstream != "http://127.0.0.1:9/" || cfg.Policy.Mode != "warn" || cfg.Server.Listen != "127.0.0.1:9999" {
		t.Errorf("overrides not applied: %+v", cfg)
	}
	if time.Duration(cfg.Policy.MinReleaseAge) != 48*time.Hour || cfg.Upstream.Timeout != 3*time.Second {
		t.Errorf("durations: %v %v", cfg.Policy.MinReleaseAge, cfg.Upstream.Timeout)
	}
	if cfg.Upstream.MaxArtifactBytes != 10<<20 {
		t.Errorf("size: %d", cfg.Upstream.MaxArtifactBytes)
	}
	if !reflect.DeepEqual(cfg.Proxy.Intercept, []string{"a.example.invalid", "b.example.invalid"}) {
		t.Errorf("list: %q", cfg.Proxy.Intercept)
	}
	if _, err := Load("", []string{"MOAT_NPM_UPSTRAEM=x"}); err == nil {
		t.Error("a misspelt MOAT_NPM_ variable was accepted")
	}
	if _, err := Load("", []string{"MOAT_SCAN_WORKERS=two"}); err == nil {
		t.Error("a malformed integer was accepted")
	}
}

func TestValidate(t *testing.T) {
	cases := map[string]func(*Config){
		"listen":       func(c *Config) { c.Server.Listen = "nope" },
		"upstream":     func(c *Config) { c.NPM.Upstream = "ftp://x" },
		"missing hash": func(c *Config) { c.PyPI.MissingHash = "maybe" },
		"egress":       func(c *Config) { c.Proxy.Egress = "open" },
		"cidr":         func(c *Config) { c.Proxy.AllowClients = []string{"10.0.0.0/33"} },
		"classifier":   func(c *Config) { c.Scan.Classifier = "magic" },
		"policy mode":  func(c *Config) { c.Policy.Mode = "yolo" },
		"log level":    func(c *Config) { c.Log.Level = "loud" },
	}
	for name, mutate := range cases {
		t.Run(name, func(t *testing.T) {
			c := Default()
			mutate(&c)
			if err := c.Validate(); err == nil {
				t.Error("Validate accepted it")
			}
		})
	}
}
