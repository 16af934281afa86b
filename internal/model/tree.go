package model

import (
	"encoding/json"
	"math"
	"strconv"
	"unicode/utf8"
)

// NormalizeTree copies v as a document tree: what DecodeJSONValue makes of
// json.Marshal(v), without the two passes. Objects and arrays are copied
// (the result shares nothing with v); the Go values the code overlays on
// stored documents (int64, []string, float64 from encoding/json) become
// what encoding them and decoding the text gives. Anything else takes the
// two passes.
func NormalizeTree(v any) (any, error) {
	switch x := v.(type) {
	case nil, bool:
		return x, nil
	case string:
		return treeString(x)
	case json.Number:
		if x == "" { // encoding/json writes an empty Number as 0
			return json.Number("0"), nil
		}
		if validNumber(string(x)) {
			return x, nil
		}
		return reencode(x) // the error encoding/json reports
	case int64:
		return json.Number(strconv.FormatInt(x, 10)), nil
	case int:
		return json.Number(strconv.Itoa(x)), nil
	case float64:
		return treeFloat(x)
	case map[string]any:
		if x == nil {
			return nil, nil
		}
		return normalizeObject(x)
	case []any:
		return normalizeSlice(x, NormalizeTree)
	case []string:
		return normalizeSlice(x, treeString)
	case []map[string]any:
		return normalizeSlice(x, func(m map[string]any) (any, error) { return NormalizeTree(m) })
	default:
		return reencode(v)
	}
}

// NormalizeObject is NormalizeTree for an object.
func NormalizeObject(o map[string]any) (map[string]any, error) {
	if o == nil {
		return map[string]any{}, nil
	}
	return normalizeObject(o)
}

func normalizeObject(o map[string]any) (map[string]any, error) {
	out := make(map[string]any, len(o))
	for k, e := range o {
		if !utf8.ValidString(k) {
			// encoding/json replaces invalid bytes; let it.
			v, err := reencode(o)
			if err != nil {
				return nil, err
			}
			return v.(map[string]any), nil
		}
		n, err := NormalizeTree(e)
		if err != nil {
			return nil, err
		}
		out[k] = n
	}
	return out, nil
}

func treeString(s string) (any, error) {
	if utf8.ValidString(s) {
		return s, nil
	}
	return reencode(s)
}

// treeFloat writes f as encoding/json does (its floatEncoder for 64 bits).
func treeFloat(f float64) (any, error) {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return reencode(f) // the error encoding/json reports
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b := strconv.AppendFloat(nil, f, format, -1, 64)
	if format == 'e' { // e-09 → e-9
		n := len(b)
		if n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return json.Number(b), nil
}

func reencode(v any) (any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return DecodeJSONValue(b)
}

// validNumber reports whether s is a JSON number (as encoding/json checks a
// json.Number before writing it as is).
func validNumber(s string) bool {
	if s == "" {
		return false
	}
	if s[0] == '-' {
		s = s[1:]
		if s == "" {
			return false
		}
	}
	switch {
	case s[0] == '0':
		s = s[1:]
	case '1' <= s[0] && s[0] <= '9':
		s = s[1:]
		for len(s) > 0 && '0' <= s[0] && s[0] <= '9' {
			s = s[1:]
		}
	default:
		return false
	}
	if len(s) >= 2 && s[0] == '.' && '0' <= s[1] && s[1] <= '9' {
		s = s[2:]
		for len(s) > 0 && '0' <= s[0] && s[0] <= '9' {
			s = s[1:]
		}
	}
	if len(s) >= 2 && (s[0] == 'e' || s[0] == 'E') {
		s = s[1:]
		if s[0] == '+' || s[0] == '-' {
			s = s[1:]
			if s == "" {
				return false
			}
		}
		for len(s) > 0 && '0' <= s[0] && s[0] <= '9' {
			s = s[1:]
		}
	}
	return s == ""
}

// normalizeSlice is a slice's tree: nil stays null, as encoding/json writes it.
func normalizeSlice[T any](xs []T, each func(T) (any, error)) (any, error) {
	if xs == nil {
		return nil, nil
	}
	out := make([]any, len(xs))
	for i, e := range xs {
		n, err := each(e)
		if err != nil {
			return nil, err
		}
		out[i] = n
	}
	return out, nil
}
