package identity

import (
	"fmt"
	"slices"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"

	"github.com/latchid/latch/internal/model"
)

// Emails and usernames name accounts to people, who read them. Uniqueness
// and the look-alike keys (store.LoginKey, store.LookalikeKey) compare what
// the characters are; these rules refuse what they cannot see: a character
// that shows nothing ("kate\u200b" beside "kate"), and a username that
// mixes scripts ("кate", Cyrillic к with Latin ate) or borrows phonetic
// letters ("ᴋate"). They apply to a value when it is set: stored ones stay.

// loginIDInvisible is the first character of id that shows nothing, and
// whether there is one: white space other than the ASCII space, control
// and format characters, variation selectors and the other default-ignorable
// code points (model.Invisible). A zero-width joiner or non-joiner is
// accepted only where it changes how a word is written (UAX #31 annex A):
// after a virama, or between two letters of a script whose letters join.
func loginIDInvisible(id string) (rune, bool) {
	runes := []rune(id)
	for i, r := range runes {
		if r == ' ' || !model.Invisible(r) {
			continue
		}
		if (r == zwnj || r == zwj) && joinerShows(runes, i) {
			continue
		}
		return r, true
	}
	return 0, false
}

const (
	zwnj = '\u200c' // ZERO WIDTH NON-JOINER
	zwj  = '\u200d' // ZERO WIDTH JOINER
)

// joiningScripts are the scripts whose letters join (cursive), where a
// zero-width non-joiner between two letters keeps them apart visibly.
var joiningScripts = []*unicode.RangeTable{
	unicode.Arabic, unicode.Syriac, unicode.Nko, unicode.Mongolian, unicode.Mandaic, unicode.Manichaean,
	unicode.Psalter_Pahlavi, unicode.Adlam, unicode.Hanifi_Rohingya, unicode.Sogdian, unicode.Old_Uyghur, unicode.Phags_Pa,
}

// joinerShows reports whether the joiner at runes[i] changes how its
// neighbours are written: right after a virama (canonical combining class
// 9: Indic conjuncts), or, for a non-joiner, between two letters of a
// joining script (marks between them left aside).
func joinerShows(runes []rune, i int) bool {
	if i == 0 || i == len(runes)-1 {
		return false
	}
	if norm.NFC.PropertiesString(string(runes[i-1])).CCC() == 9 {
		return true
	}
	if runes[i] != zwnj {
		return false
	}
	before, after := i-1, i+1
	for before > 0 && unicode.In(runes[before], unicode.Mn, unicode.Me) {
		before--
	}
	for after < len(runes)-1 && unicode.In(runes[after], unicode.Mn, unicode.Me) {
		after++
	}
	joins := func(r rune) bool { return unicode.IsLetter(r) && unicode.In(r, joiningScripts...) }
	return joins(runes[before]) && joins(runes[after])
}

// checkLoginIDInvisible adds a field error when a new email or username
// (value at field) holds a character that shows nothing.
func checkLoginIDInvisible(field, value string, verrs *model.Errors) bool {
	r, bad := loginIDInvisible(value)
	if bad {
		verrs.Field(field, "invalid", fmt.Sprintf("[%s] must not contain invisible characters (white space other than a space, control or format characters such as %U): it would look like another.", field, r))
	}
	return !bad
}

// Scripts may mix in a username only as UTS #39's Highly Restrictive level
// allows: Latin with Han and the Japanese kana, with Han and Bopomofo, or
// with Han and Hangul. Common and Inherited characters (digits, punctuation,
// combining accents) belong to no script here.
var scriptMixes = [][]string{
	{"Latin", "Han", "Hiragana", "Katakana"},
	{"Latin", "Han", "Bopomofo"},
	{"Latin", "Han", "Hangul"},
}

// scriptOf is the name of r's script, "" for Common, Inherited and
// unassigned characters.
func scriptOf(r rune) string {
	switch {
	case r < 0x80:
		if 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' {
			return "Latin"
		}
		return ""
	case unicode.In(r, unicode.Common, unicode.Inherited):
		return ""
	case unicode.Is(unicode.Latin, r):
		return "Latin"
	}
	for name, table := range unicode.Scripts {
		if unicode.Is(table, r) {
			return name
		}
	}
	return ""
}

// usernameScripts are the scripts of a username, sorted, when they mix as
// no allowed combination does; nil otherwise.
func usernameScripts(username string) []string {
	var scripts []string
	for _, r := range username {
		if s := scriptOf(r); s != "" && !slices.Contains(scripts, s) {
			scripts = append(scripts, s)
		}
	}
	if len(scripts) < 2 {
		return nil
	}
	for _, mix := range scriptMixes {
		if !slices.ContainsFunc(scripts, func(s string) bool { return !slices.Contains(mix, s) }) {
			return nil
		}
	}
	slices.Sort(scripts)
	return scripts
}

// phonetic reports a letter of the Phonetic Extensions blocks (U+1D00 to
// U+1DBF): small capitals and phonetic letters no orthography uses, which
// imitate ordinary letters (ᴋ, ᴄ, ᴏ).
func phonetic(r rune) bool { return 0x1d00 <= r && r <= 0x1dbf && unicode.IsLetter(r) }

// checkUsername adds the field errors of a new username's characters.
func checkUsername(field, username string, verrs *model.Errors) {
	if !checkLoginIDInvisible(field, username, verrs) {
		return
	}
	if scripts := usernameScripts(username); scripts != nil {
		verrs.Field(field, "invalid", fmt.Sprintf("[%s] mixes the scripts %s: a username uses the letters of one script "+
			"(or Latin with Han and Hiragana or Katakana, with Han and Bopomofo, or with Han and Hangul).", field, strings.Join(scripts, ", ")))
		return
	}
	if i := strings.IndexFunc(username, phonetic); i >= 0 {
		r := []rune(username[i:])[0]
		verrs.Field(field, "invalid", fmt.Sprintf("[%s] must not contain phonetic letters such as %c (%U): they imitate ordinary letters.", field, r, r))
	}
}
