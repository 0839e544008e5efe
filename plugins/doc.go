// Package plugins is the registry of renderers: kiln's built-ins, in the
// order they run, behind the same render.Renderer interface that
// extensions implement. Nothing registers itself from an init function;
// the CLI asks this package for the list and passes it to render.Render.
package plugins
