package proxy

import (
	"github.com/moatproject/moat/proxy/npm"
)

// npmDists remembers the version facts (dist URL and hashes, publication
// time) the tarball path took from a packument, so a warm tarball request
// needs neither the packument's body nor its parse: packuments run to
// megabytes, and a working set of them does not stay parsed in memory.
// Entries are tagged with the generation of the packument they came from
// (metaFetcher.freshGen) and used only while that generation is current
// and fresh; a revalidated or expired packument sends the request down
// the full path again.
type npmDists struct {
	m *boundedMap[npmDistKey, npmDist]
}

type npmDistKey struct{ key, version string }

type npmDist struct {
	gen uint64
	vi  npm.VersionInfo
}

// npmDistsMax bounds the entries (a few hundred bytes each).
const npmDistsMax = 1 << 16

func newNPMDists() npmDists { return npmDists{m: newBoundedMap[npmDistKey, npmDist](npmDistsMax)} }

func (d npmDists) get(key, version string, gen uint64) (npm.VersionInfo, bool) {
	if gen == 0 {
		return npm.VersionInfo{}, false
	}
	e, ok := d.m.get(npmDistKey{key, version})
	if !ok || e.gen != gen {
		return npm.VersionInfo{}, false
	}
	return e.vi, true
}

// put records vi for (key, version) under gen, the generation read before
// the packument was loaded: were the document replaced in between, the
// entry simply never matches.
func (d npmDists) put(key, version string, gen uint64, vi npm.VersionInfo) {
	if gen != 0 {
		d.m.put(npmDistKey{key, version}, npmDist{gen: gen, vi: vi})
	}
}
