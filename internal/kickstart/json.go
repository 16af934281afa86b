package kickstart

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// decodeJSON decodes one JSON value with exact numbers. Syntax errors name the
// file, line and column, so that an operator can find them.
func decodeJSON(data []byte, name string) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	err := dec.Decode(&v)
	if err == nil {
		if rest := bytes.TrimSpace(data[dec.InputOffset():]); len(rest) > 0 {
			off := int(dec.InputOffset()) + bytes.Index(data[dec.InputOffset():], rest[:1])
			line, col := position(data, off)
			return nil, fmt.Errorf("%s:%d:%d: invalid JSON: unexpected data after the top-level value", name, line, col)
		}
		return v, nil
	}
	var syn *json.SyntaxError
	switch {
	case errors.As(err, &syn):
		line, col := position(data, int(syn.Offset)-1)
		return nil, fmt.Errorf("%s:%d:%d: invalid JSON: %s", name, line, col, syn.Error())
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		line, col := position(data, len(data))
		if len(bytes.TrimSpace(data)) == 0 {
			return nil, fmt.Errorf("%s: invalid JSON: the file is empty", name)
		}
		return nil, fmt.Errorf("%s:%d:%d: invalid JSON: unexpected end of the file (an unclosed object, array or string)", name, line, col)
	default:
		return nil, fmt.Errorf("%s: invalid JSON: %w", name, err)
	}
}

// position is the 1-based line and column of byte offset off.
func position(data []byte, off int) (line, col int) {
	off = max(0, min(off, len(data)))
	before := data[:off]
	line = 1 + bytes.Count(before, []byte("\n"))
	col = off - bytes.LastIndexByte(before, '\n')
	return line, col
}

// encodeJSON encodes a decoded value back to compact JSON: object members
// sorted, numbers as written, HTML characters left alone (email templates).
func encodeJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

// jsonType names a decoded value's JSON type for messages.
func jsonType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case json.Number:
		return "a number"
	case string:
		return "a string"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	default:
		return fmt.Sprintf("%T", v)
	}
}
