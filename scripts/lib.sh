# Shared helpers for the scripts in this directory; source it.

# section prints a header that stands out in a CI log.
section() {
	printf '\n==== %s ====\n' "$*"
}

# die prints a message on stderr and exits non-zero.
die() {
	printf 'error: %s\n' "$*" >&2
	exit 1
}

# test_packages lists the import paths of the packages that have tests, for
# the GOOS in the environment.
test_packages() {
	go list -f '{{if or .TestGoFiles .XTestGoFiles}}{{.ImportPath}}{{end}}' ./... | sed '/^$/d'
}
