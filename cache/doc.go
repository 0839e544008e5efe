// Package cache keeps what kiln computed from given inputs, by a hash of
// those inputs, so a later run with the same inputs reads it back instead
// of computing it again: the content-addressed cache of rendered systems
// behind kiln render and kiln vet (systems/), and beside it the write
// records of output directories (outputs/) and the memo of which
// directories are specs (specs/), each in a Cache of its own.
//
// The cache is an optimisation only. Deleting it, or any entry of it,
// changes no output; so every failure inside it is a miss, never an error:
//
//   - An entry is one file named by its key, holding a checksum of its
//     bytes. A truncated, corrupt or unreadable entry is a miss (and is
//     removed).
//   - An entry is written to a temporary file in its directory and renamed
//     into place, so concurrent kiln runs, which may write the same key
//     with the same bytes, never see half an entry. Nothing is synced: a
//     crash can lose an entry, and a lost entry is a miss.
//   - The cache is bounded (Cache.Limit): Trim removes the least recently
//     used entries (by modification time, which a hit refreshes) when the
//     entries together exceed it.
//
// Where it lives: $KILN_CACHE when set (KILN_CACHE=off disables it), else
// kiln/ under the user's cache directory (os.UserCacheDir:
// $XDG_CACHE_HOME or ~/.cache on Linux). A cache directory that cannot be
// made disables the cache for the run.
//
// What makes a key is the caller's business (Hash helps, and BuildID names
// the running kiln binary); what makes it right is that it covers
// everything that decides the value.
//
// cache depends on the standard library only.
package cache
