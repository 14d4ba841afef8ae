// Package pkitest hands out pre-generated private keys in place of fresh ones, so tests that
// build whole PKI trees do not spend their time generating RSA keys. The keys under testdata/
// are test fixtures: they protect nothing.
package pkitest
