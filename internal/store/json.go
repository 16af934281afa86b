package store

import "encoding/json"

// toJSON encodes v for a TEXT column; the types stored here always encode.
func toJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func nullInt(p *int64) any {
	if p == nil {
		return nil
	}
	return *p
}

func decodeStrings(text string) []string {
	var out []string
	_ = json.Unmarshal([]byte(text), &out) // written by toJSON; a bad row reads as empty
	return out
}
