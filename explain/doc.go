// Package explain says where the value at a CUE path comes from in each
// environment of a compiled system: the base spec, an environment's
// override (also one of images.X that applied by value), a component a
// pipeline step inherits it from, or the schema's default. It is what
// `kiln explain` prints, as text or JSON.
//
// explain reads only the IR and the source positions the compiler
// recorded; it never evaluates CUE.
package explain
