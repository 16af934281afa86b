package kit

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// ErrStreamJSON is malformed JSON (or unreadable input) met by StreamObject.
var ErrStreamJSON = errors.New("invalid JSON")

// StreamObject reads one JSON object from r with bounded memory: the members
// other than arrayKey are decoded whole (numbers as json.Number) into head;
// arrayKey's elements, when it is an array, are decoded one at a time and
// handed to each, with their encoded size, never held together. head then
// holds arrayKey as a slice of n nils (its length is all a caller of the
// stream still needs), or its value when it is not an array. each returning
// stop true ends the reading early (the rest is not read). Malformed JSON,
// a body that is not one object, or trailing data is an error wrapping
// ErrStreamJSON.
func StreamObject(r io.Reader, arrayKey string, each func(i int, v any, size int64) (stop bool, err error)) (head Object, err error) {
	dec := json.NewDecoder(r)
	dec.UseNumber()
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrStreamJSON, fmt.Sprintf(format, args...))
	}
	tok, err := dec.Token()
	if errors.Is(err, io.EOF) {
		return nil, bad("a JSON request body is required")
	}
	if err != nil {
		return nil, bad("%v", err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, bad("the request body must be a JSON object")
	}
	head = Object{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, bad("%v", err)
		}
		key, _ := tok.(string)
		first, err := dec.Token()
		if err != nil {
			return nil, bad("%v", err)
		}
		if d, ok := first.(json.Delim); key != arrayKey || !ok || d != '[' {
			v, err := tokenValue(dec, first)
			if err != nil {
				return nil, bad("%v", err)
			}
			head[key] = v
			continue
		}
		n := 0
		for dec.More() {
			start := dec.InputOffset()
			var v any
			if err := dec.Decode(&v); err != nil {
				return nil, bad("%v", err)
			}
			stop, err := each(n, v, dec.InputOffset()-start)
			n++
			if err != nil || stop {
				head[key] = make([]any, n)
				return head, err
			}
		}
		if _, err := dec.Token(); err != nil { // ']'
			return nil, bad("%v", err)
		}
		head[key] = make([]any, n)
	}
	if _, err := dec.Token(); err != nil { // '}'
		return nil, bad("%v", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, bad("unexpected data after the JSON value")
	}
	return head, nil
}

// tokenValue reads the rest of the value that starts with tok.
func tokenValue(dec *json.Decoder, tok json.Token) (any, error) {
	d, ok := tok.(json.Delim)
	if !ok {
		return tok, nil // a scalar: string, json.Number, bool or nil
	}
	switch d {
	case '[':
		list := []any{}
		for dec.More() {
			var v any
			if err := dec.Decode(&v); err != nil {
				return nil, err
			}
			list = append(list, v)
		}
		_, err := dec.Token()
		return list, err
	case '{':
		o := Object{}
		for dec.More() {
			k, err := dec.Token()
			if err != nil {
				return nil, err
			}
			var v any
			if err := dec.Decode(&v); err != nil {
				return nil, err
			}
			o[k.(string)] = v
		}
		_, err := dec.Token()
		return o, err
	}
	return nil, fmt.Errorf("unexpected %v", d)
}

// FactorValue reads a factor: a JSON integer (or a string of one, which
// FusionAuth's JSON binding also takes).
func FactorValue(v any) (int, bool) {
	var s string
	switch n := v.(type) {
	case json.Number:
		s = n.String()
	case string:
		s = strings.TrimSpace(n)
	default:
		return 0, false
	}
	f, err := strconv.ParseInt(s, 10, 32)
	if err != nil || f < 0 {
		return 0, false
	}
	return int(f), true
}

// InstantValue reads an epoch-millisecond member; absent or null is def.
func InstantValue(v any) (int64, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, false
	}
	i, err := n.Int64()
	return i, err == nil && i >= 0
}
