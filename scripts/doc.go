// Package scripts holds the tests of the repository's shell scripts (the
// scripts themselves are run by the Makefile).
package scripts
