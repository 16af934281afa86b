package store

import (
	"errors"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// ErrorKind is the class of a database error that the rules act on.
type ErrorKind int

const (
	KindOther      ErrorKind = iota // not one of the kinds below (or nil)
	KindUnique                      // a unique or primary-key violation
	KindForeignKey                  // a foreign-key violation
	KindCheck                       // a CHECK constraint violation
	KindBusy                        // the database could not take a lock now; retrying may succeed
)

func (k ErrorKind) String() string {
	switch k {
	case KindUnique:
		return "unique"
	case KindForeignKey:
		return "foreign key"
	case KindCheck:
		return "check"
	case KindBusy:
		return "busy"
	}
	return "other"
}

// PostgreSQL SQLSTATEs (Appendix A of its manual).
const (
	pgUniqueViolation     = "23505"
	pgForeignKeyViolation = "23503"
	pgCheckViolation      = "23514"
	pgSerializationFail   = "40001"
	pgDeadlockDetected    = "40P01"
	pgLockNotAvailable    = "55P03"
)

// Classify tells the kind of err from the driver's typed error code: the
// SQLSTATE of a *pgconn.PgError, the (extended) result code of a
// *sqlite.Error. Message text is never read: it is not part of either
// driver's contract and a wrapped error may quote anything.
func Classify(err error) ErrorKind {
	if err == nil {
		return KindOther
	}
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		switch pg.Code {
		case pgUniqueViolation:
			return KindUnique
		case pgForeignKeyViolation:
			return KindForeignKey
		case pgCheckViolation:
			return KindCheck
		case pgSerializationFail, pgDeadlockDetected, pgLockNotAvailable:
			return KindBusy
		}
		return KindOther
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		// The store's connections have extended result codes on (the driver
		// turns them on); the low byte is the primary code.
		switch se.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return KindUnique
		case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
			return KindForeignKey
		case sqlite3.SQLITE_CONSTRAINT_CHECK:
			return KindCheck
		}
		switch se.Code() & 0xff {
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
			return KindBusy
		}
	}
	return KindOther
}

// IsUnique reports whether err is a unique or primary-key violation.
func IsUnique(err error) bool { return Classify(err) == KindUnique }

// IsForeignKey reports whether err is a foreign-key violation.
func IsForeignKey(err error) bool { return Classify(err) == KindForeignKey }

// IsCheck reports whether err is a CHECK constraint violation.
func IsCheck(err error) bool { return Classify(err) == KindCheck }

// IsBusy reports whether err says the database could not take a lock now
// (SQLite busy or locked; PostgreSQL serialization failure, deadlock, or a
// NOWAIT lock not available).
func IsBusy(err error) bool { return Classify(err) == KindBusy }

// uniqueField tells which unique column of table a unique violation hit:
// the field of the first marker (a fragment of the index or column name)
// the violation names, "id" for the primary key, "" when err is no unique
// violation or names none of them. Whether it is a unique violation comes
// from the error code (Classify); which column, from PostgreSQL's
// constraint name and key detail, and from SQLite's "table.column" list,
// the one place SQLite names the columns (it has no structured field).
func uniqueField(err error, table string, markers ...[2]string) string {
	if !IsUnique(err) {
		return ""
	}
	var text string
	var pg *pgconn.PgError
	var se *sqlite.Error
	switch {
	case errors.As(err, &pg):
		text = pg.ConstraintName + " " + pg.Detail
	case errors.As(err, &se):
		text = se.Error()
	}
	for _, m := range markers {
		if strings.Contains(text, m[0]) {
			return m[1]
		}
	}
	if strings.Contains(text, table+"_pkey") || strings.Contains(text, table+".id") {
		return "id"
	}
	return ""
}
