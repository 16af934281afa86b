package kit_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/latchid/latch/internal/kit"
)

func TestStreamObject(t *testing.T) {
	cases := []struct {
		name, body string
		stopAt     int // -1: never
		head       kit.Object
		seen       int
		bad        bool
	}{
		{"users first", `{"users":[{"a":1},{"b":[2]}],"x":{"y":[true,null]},"z":"s"}`, -1,
			kit.Object{"users": []any{nil, nil}, "x": kit.Object{"y": []any{true, nil}}, "z": "s"}, 2, false},
		{"users last", ` {"n":1 , "users" : [ 1 , "two" ] } `, -1, kit.Object{"n": "1", "users": []any{nil, nil}}, 2, false},
		{"users not an array", `{"users":"aaaa"}`, -1, kit.Object{"users": "aaaa"}, 0, false},
		{"users an object", `{"users":{"a":{"b":1}}}`, -1, kit.Object{"users": kit.Object{"a": kit.Object{"b": "1"}}}, 0, false},
		{"stopped early", `{"users":[1,2,3,4],"later":1}`, 1, kit.Object{"users": []any{nil, nil}}, 2, false},
		{"empty", ``, -1, nil, 0, true},
		{"array", `[]`, -1, nil, 0, true},
		{"trailing data", `{"users":[]} x`, -1, nil, 0, true},
		{"broken element", `{"users":[{"a":}]}`, -1, nil, 0, true},
		{"unterminated", `{"users":[1,2`, -1, nil, 0, true},
	}
	for _, c := range cases {
		seen := 0
		head, err := kit.StreamObject(strings.NewReader(c.body), "users", func(i int, v any, size int64) (bool, error) {
			if size <= 0 {
				t.Errorf("%s: element %d of size %d", c.name, i, size)
			}
			seen++
			return i == c.stopAt, nil
		})
		if c.bad {
			if !errors.Is(err, kit.ErrStreamJSON) {
				t.Errorf("%s: %v, want ErrStreamJSON", c.name, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		// json.Number compares by its text.
		if !reflect.DeepEqual(normalize(head), normalize(c.head)) || seen != c.seen {
			t.Errorf("%s: head %#v (%d elements), want %#v (%d)", c.name, head, seen, c.head, c.seen)
		}
	}
}

func normalize(v any) any {
	switch x := v.(type) {
	case kit.Object:
		o := map[string]any{}
		for k, e := range x {
			o[k] = normalize(e)
		}
		return o
	case []any:
		l := make([]any, len(x))
		for i, e := range x {
			l[i] = normalize(e)
		}
		return l
	case interface{ String() string }:
		return x.String()
	}
	return v
}
