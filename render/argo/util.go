package argo

import "bytes"

func bytesReader(b []byte) *bytes.Reader { return bytes.NewReader(b) }

func ptr[T any](v T) *T { return &v }
