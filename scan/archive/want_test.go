package archive

import "testing"

func TestWantSource(t *testing.T) {
	tests := []struct {
		path string
		want bool
	}{
		{"index.js", true},
		{"lib/a.cjs", true},
		{"lib/a.mjs", true},
		{"src/App.jsx", true},
		{"LIB/UPPER.JS", true},
		{"package.json", true},
		{"setup.py", true},
		{"demo/gui.pyw", true},
		{"demo.pth", true},
		{"setup.cfg", true},
		{"pyproject.toml", true},
		{"PKG-INFO", true},
		{"demo-1.0.dist-info/METADATA", true},
		{"demo-1.0.dist-info/RECORD", true},
		{"demo-1.0.dist-info/entry_points.txt", true},
		{"demo.egg-info/top_level.txt", true},
		{"requirements.txt", true},
		{"requirements-dev.txt", true},
		{"binding.gyp", true},
		{"deps/common.gyp", true},
		{"scripts/install.sh", true},
		{"install.bat", true},
		{"install.cmd", true},
		{"install.ps1", true},
		{"bin/cli", true},
		{"tools/bin/run", true},
		{"bin/sub/run", true},
		{"demo-1.0.data/scripts/demo-run", true},

		{"docs/requirements.txt", false},
		{"README.txt", false},
		{"LICENSE", false},
		{"lib/Makefile", false},
		{"index.ts", false},
		{"index.d.ts", false},
		{"index.js.map", false},
		{"logo.png", false},
		{"font.woff2", false},
		{"build/Release/addon.node", false},
		{"demo/_speedups.so", false},
		{"bin/cli.exe", false},
		{"README.md", false},
		{".npmrc", false},
	}
	for _, tt := range tests {
		if got := WantSource(tt.path, 1); got != tt.want {
			t.Errorf("WantSource(%q) = %v, want %v", tt.path, got, tt.want)
		}
	}
}
