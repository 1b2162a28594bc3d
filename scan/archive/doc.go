// Package archive reads package archives (npm .tgz, PyPI wheels and sdists:
// .tgz/.tar.gz/.tar.bz2/.tar/.zip/.whl) and source folders safely and
// entirely in memory. It is the first parser of hostile input in moat: every
// limit (total and per-file size, entry count, compression ratio, path
// depth) is enforced while reading, hostile names (absolute, "..", NUL,
// drive letters) refuse the whole archive, links and devices are listed as
// skipped and never followed, truncated or trailing data is an error rather
// than a partial result, and nothing is ever written to disk.
package archive
