package password

import (
	"strings"
	"testing"
)

func TestCommon(t *testing.T) {
	for _, c := range []struct {
		pw   string
		want bool
	}{
		{"password", true}, {"PassWord", true}, {"12345678", true}, {"iloveyou", true}, {"qwertyuiop", true},
		{"correct horse battery staple", false}, {"", false}, {"Xq7#vLm2!pR9", false},
	} {
		if got := Common(c.pw); got != c.want {
			t.Errorf("Common(%q) = %v, want %v", c.pw, got, c.want)
		}
	}
	fit := 0
	for line := range strings.Lines(commonPasswords) {
		if len(strings.TrimSpace(line)) >= 8 {
			fit++
		}
	}
	if fit < 3000 {
		t.Errorf("%d listed passwords have 8 characters or more; ASVS 6.2.4 asks for at least 3,000", fit)
	}
}
