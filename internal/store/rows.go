package store

import "database/sql"

// scanner is a row to scan: *sql.Row or *sql.Rows.
type scanner = interface{ Scan(...any) error }

// scanAll reads every row of a query with scan and closes the rows:
// scanAll(scanX)(tx.q.QueryContext(…)). A query error is returned as is.
func scanAll[T any](scan func(scanner) (T, error)) func(*sql.Rows, error) ([]T, error) {
	return func(rows *sql.Rows, err error) ([]T, error) {
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		var out []T
		for rows.Next() {
			v, err := scan(rows)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, rows.Err()
	}
}

// scanString reads a row of one text column.
func scanString(row scanner) (string, error) {
	var s string
	return s, row.Scan(&s)
}
