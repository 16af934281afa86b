package identity

import (
	"testing"

	"github.com/latchid/latch/internal/model"
)

// The characters a new username or email may hold: nothing that shows
// nothing, and, for usernames, one script (or an allowed mix) and no
// phonetic letters.
func TestLoginIDCharacters(t *testing.T) {
	tests := []struct {
		name, value      string
		username, email  bool // accepted as a username, as an email's text
		invisible, mixed bool // which rule refuses it
	}{
		{"ASCII", "kate", true, true, false, false},
		{"space", "kate smith", true, true, false, false},
		{"accented Latin", "José-María", true, true, false, false},
		{"combining accent", "Jose\u0301", true, true, false, false},
		{"digits and punctuation", "kate_1984.x", true, true, false, false},
		{"Cyrillic", "Наташа", true, true, false, false},
		{"Greek", "Ελένη", true, true, false, false},
		{"Arabic", "فاطمة", true, true, false, false},
		{"Han", "王小明", true, true, false, false},
		{"Japanese", "田中さんとカタカナ", true, true, false, false},
		{"Japanese with Latin and digits", "tanakaさん2", true, true, false, false},
		{"prolonged sound mark", "ラーメン", true, true, false, false},
		{"Chinese with Bopomofo", "王ㄅㄆ", true, true, false, false},
		{"Korean", "김민준", true, true, false, false},
		{"Korean with Han and Latin", "김민준金abc", true, true, false, false},
		{"Persian non-joiner between letters", "می\u200cخواهم", true, true, false, false},
		{"Devanagari joiner after virama", "क्\u200dष", true, true, false, false},
		{"Devanagari non-joiner after virama", "क्\u200cष", true, true, false, false},

		{"zero-width space", "kate\u200b", false, false, true, false},
		{"zero-width space inside", "ka\u200bte", false, false, true, false},
		{"joiner after Latin", "kate\u200d", false, false, true, false},
		{"non-joiner between Latin letters", "ka\u200cte", false, false, true, false},
		{"trailing non-joiner after Arabic", "فاطمة\u200c", false, false, true, false},
		{"non-joiner between Devanagari letters", "क\u200cष", false, false, true, false},
		{"soft hyphen", "ka\u00adte", false, false, true, false},
		{"word joiner", "kate\u2060", false, false, true, false},
		{"byte order mark", "\ufeffkate", false, false, true, false},
		{"right-to-left override", "kate\u202e", false, false, true, false},
		{"no-break space", "kate\u00a0smith", false, false, true, false},
		{"ideographic space", "kate\u3000smith", false, false, true, false},
		{"variation selector", "kate\ufe0f", false, false, true, false},
		{"Hangul filler", "kate\u3164", false, false, true, false},
		{"combining grapheme joiner", "ka\u034fte", false, false, true, false},
		{"tag character", "kate\U000e0041", false, false, true, false},

		{"Cyrillic and Latin", "\u043aate", false, true, false, true},
		{"Greek and Latin", "\u03bate", false, true, false, true},
		{"Cyrillic a in Latin", "k\u0430te", false, true, false, true},
		{"Cyrillic and Greek", "Наташа\u03b1", false, true, false, true},
		{"Latin and Arabic", "kateفاطمة", false, true, false, true},
		{"Hangul and Katakana", "김カ", false, true, false, true},
		{"Bopomofo and Hiragana", "ㄅさ", false, true, false, true},
		{"Han, Latin and Cyrillic", "王kд", false, true, false, true},

		{"phonetic small capital", "\u1d0bate", false, true, false, false},
		{"phonetic letter", "kat\u1d07", false, true, false, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var uerrs model.Errors
			checkUsername("user.username", tc.value, &uerrs)
			if got := uerrs.Empty(); got != tc.username {
				t.Errorf("username %q accepted %v, want %v: %+v", tc.value, got, tc.username, uerrs)
			}
			for _, items := range uerrs.FieldErrors {
				if items[0].Code != "[invalid]user.username" {
					t.Errorf("code %s", items[0].Code)
				}
			}
			var eerrs model.Errors
			if got := checkLoginIDInvisible("user.email", tc.value+"@example.com", &eerrs); got != tc.email || got != eerrs.Empty() {
				t.Errorf("email %q accepted %v, want %v", tc.value+"@example.com", got, tc.email)
			}
			if _, got := loginIDInvisible(tc.value); got != tc.invisible {
				t.Errorf("invisible %v, want %v", got, tc.invisible)
			}
			if got := usernameScripts(tc.value) != nil; got != tc.mixed {
				t.Errorf("mixed scripts %v (%v), want %v", got, usernameScripts(tc.value), tc.mixed)
			}
		})
	}
}
