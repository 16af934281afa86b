// Package storetest holds the contract tests of the storage interfaces that
// the domain packages declare (access.KeyStorage, tokens.RefreshTokenStorage,
// authentication.CodeStorage …): one suite per interface, each calling the
// store only through its interface, run on SQLite and PostgreSQL by this
// package's tests. A suite covers every method, the unique and foreign-key
// errors, and the races the interface promises to settle: of two
// transactions racing for one thing, exactly one wins and the other gets a
// clean answer (ErrNoRows, false, a refusal), never a driver error.
//
// The suites are test code (files *_suite_test.go): nothing but this
// package's tests runs them, and nothing imports them.
package storetest
