// Package diff compares two rendered output trees (slash-separated relative
// path -> bytes): the output committed in a repository and a fresh render.
//
// It reports changes at two levels. Objects are matched by environment,
// apiVersion group, kind, namespace and name as parsed from the files, not by
// file name, so an object that moved to another file shows up as unchanged
// (or changed) rather than as one removal and one addition. Files get a
// unified diff each. The summary is what a reviewer reads first: object
// counts per kind and the GPUs each environment requests, before and after.
//
// Everything is sorted, so the same two trees always give the same report.
package diff
