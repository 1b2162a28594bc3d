// Package policy owns moat's serve-or-refuse decision. It is pure and cheap:
// the gate calls [Engine.Decide] on every artifact request (and
// [Engine.VisibleInMetadata] for every version listed in a metadata document),
// so an edit of the policy, an override or a feed update takes effect at once,
// while the expensive scan report stays cached elsewhere.
//
// # Decision order
//
// Decide walks these layers in order; the first that decides wins:
//
//  1. rule: explicit allow/deny rules, from the config (allow:, deny:) and the
//     persisted overrides created through the admin API. The most specific
//     matching rule wins: exact version > version range > exact name > name
//     glob (a scope glob such as "@acme/*" or a glob such as "acme-*"). At
//     equal specificity deny beats allow. An allow rule ends the walk, so it
//     beats the feed, the release-age check and the scan.
//  2. feed: known-malicious records (OSV MAL-* entries) for the package name
//     whose affected versions include the requested version. Withdrawn
//     records are ignored; a record without versions blocks every version
//     only when it says so (FeedRecord.AllVersions).
//  3. age: versions younger than min_release_age are refused, except names
//     matched by release_age_exclude. An unknown publish time is allowed or
//     refused per unknown_age (default allow).
//  4. scan: a report whose score reaches the threshold (the report's own, or
//     threshold_override) is refused.
//  5. scan_error: a scan that failed is refused or allowed per on_scan_error
//     (default block).
//
// Otherwise the artifact is allowed: layer "scan" when a clean report was
// seen, "default" when there was none (for example metadata filtering).
//
// # Modes
//
// In mode enforce a refusal is ActionBlock. In mode warn it becomes
// ActionWarn (served with a warning), in mode audit ActionAllow; both keep
// Layer, Reasons and Rule and set WouldBlock, so logs and metrics still show
// what enforce would have done.
//
// # Names
//
// Names are compared in canonical form (see [NormalizeName]): PyPI names
// PEP 503-normalised, npm names lower-cased with an escaped scope separator
// ("%2f") decoded.
package policy
