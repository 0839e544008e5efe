// Package yamlwrite writes kiln's objects as YAML, byte for byte as
// go-yaml v2 writes them (goyaml.Marshal of the same values, maps in
// bytewise key order), several times faster.
//
// Why it exists: encoding was the largest phase of `kiln render` after CUE
// (a thousand models: about 3 s of CPU in go-yaml's encoder). kiln's
// objects are a narrow kind of YAML document (block maps and lists of
// short, mostly plain, printable strings), and a writer for exactly that
// is simple. The bytes kiln writes must not change, so the writer only
// handles what it is certain of, and declines the rest: the caller then
// encodes the whole document with go-yaml, as before.
//
// It declines a document holding
//   - a string with a line break, a tab, a control character or any
//     non-ASCII rune (go-yaml writes those as literal blocks, double-quoted
//     escapes or raw UTF-8, by rules this package does not repeat);
//   - a string with a space whose line would run past 80 columns (go-yaml
//     folds such lines) and a map key longer than 120 bytes (go-yaml writes
//     keys past 128 bytes in the complex `? key` form);
//   - a value of a type other than map[string]any, []any, string,
//     json.Number, bool, nil and Go's integer and float types.
//
// The style of a string is decided by rules learnt from go-yaml's output
// (never from its source), in two tiers. Strings starting with a letter
// that are not short words, and strings starting with an indicator that
// always forces quotes, are classified here: plain, or single-quoted when
// a plain scalar would read otherwise (`: `, ` #`, a trailing colon, a
// leading indicator). Every other string (empty, starting with a digit,
// sign, dot or other punctuation, or a word of up to eight letters, such
// as "true", "y" or "null", which YAML 1.1 reads as another type) and
// every number is written once by go-yaml itself, as a one-entry map, and
// the result cached: such strings are few and repeat.
//
// Two entry points: Append writes a map (what render gets from objects
// that build their own map, such as Argo's), AppendObject a typed
// object's JSON text, sorting each object's members itself and applying
// kiln's cleaning (null creationTimestamps, empty metadata, the top-level
// status) on the way, which saves decoding the text into maps. The tests
// hold both to go-yaml as a black box: every golden document, random
// documents of nasty strings, and two fuzz targets.
//
// Numbers: json.Number literals are written as go-yaml writes the value
// its parser reads from the literal, as kiln did when it went through JSON
// text.
package yamlwrite
