package kit

import (
	"strings"

	"github.com/latchid/latch/internal/model"
)

// Search paging, as FusionAuth's BaseSearchCriteria: 25 results unless asked,
// and a cap so one request cannot pull a whole table.
const (
	DefaultSearchResults = 25
	MaxSearchResults     = 500
)

// PageWindow turns startRow and numberOfResults into an offset and limit:
// zero results means the default, more than the cap means the cap, negatives
// are field errors.
func PageWindow(verrs *model.Errors, startRow, numberOfResults int) (offset, limit int) {
	if startRow < 0 {
		verrs.Field("search.startRow", "invalid", "startRow must not be negative.")
	}
	switch {
	case numberOfResults < 0:
		verrs.Field("search.numberOfResults", "invalid", "numberOfResults must not be negative.")
	case numberOfResults == 0:
		numberOfResults = DefaultSearchResults
	case numberOfResults > MaxSearchResults:
		numberOfResults = MaxSearchResults
	}
	return startRow, numberOfResults
}

// ParseOrderBy reads FusionAuth's "field [ASC|DESC]" against the allowed
// fields. An empty value is the store's default order, ascending.
func ParseOrderBy(orderBy string, allowed map[string]string) (field string, desc, ok bool) {
	parts := strings.Fields(orderBy)
	switch len(parts) {
	case 0:
		return "", false, true
	case 1, 2:
	default:
		return "", false, false
	}
	if _, known := allowed[strings.ToLower(parts[0])]; !known {
		return "", false, false
	}
	if len(parts) == 2 {
		switch strings.ToUpper(parts[1]) {
		case "ASC":
		case "DESC":
			desc = true
		default:
			return "", false, false
		}
	}
	return parts[0], desc, true
}
