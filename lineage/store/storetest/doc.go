// Package storetest serves a directory as object storage for tests: S3
// (path-style ListObjectsV2 and GetObject) and Cloud Storage's JSON API
// (objects.list and objects.get with alt=media), just enough of each for
// package store, two keys a page so that paging is exercised. Bucket b's
// key k is the file DIR/b/k. It records every request it serves.
package storetest
