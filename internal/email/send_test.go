package email

import (
	"net/mail"
	"strings"
	"testing"

	"github.com/latchid/latch/internal/model"
)

// An address header's mailbox reads back as written: display names with
// RFC 5322 specials are quoted, others than printable ASCII encoded without
// the characters RFC 2047 §5(3) forbids in a display name's encoded-word,
// and a line break cannot start another header. Seen failing before:
// `ACME, Inc. (Support) <…>` and `Doe, John <…>` were written unquoted.
func TestFormatAddress(t *testing.T) {
	for _, display := range []string{"", "Latch", "Doe, John", "ACME, Inc. (Support)", `Say "hi"`, "Müller: Support@Home",
		"Zoë <admin@evil.example>", "Line\r\nBcc: x@example.com", "a;b", "日本語"} {
		a := model.EmailAddress{Address: "noreply@example.com", Display: display}
		h := formatAddress(a)
		if strings.ContainsAny(h, "\r\n") {
			t.Fatalf("%q: %q holds a line break", display, h)
		}
		got, err := mail.ParseAddress(h)
		if err != nil {
			t.Fatalf("%q: %q does not parse: %v", display, h, err)
		}
		if got.Address != a.Address || got.Name != display {
			t.Errorf("%q: %q reads back as %q <%s>", display, h, got.Name, got.Address)
		}
	}
}
