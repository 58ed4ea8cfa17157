#!/usr/bin/env bash
# Checks the system prerequisites of `make test` / `make demo` and says what
# to install when one is missing.
set -u
need_java=${1:-java}
missing=()
if ! command -v go >/dev/null 2>&1; then
	missing+=("Go 1.26.8 or newer (https://go.dev/dl/)")
else
	v=$(go env GOVERSION | sed 's/^go//')
	if [ "$(printf '%s\n%s\n' "1.26.8" "$v" | sort -V | head -1)" != "1.26.8" ]; then
		missing+=("Go 1.26.8 or newer (found $v)")
	fi
fi
command -v gcc >/dev/null 2>&1 || missing+=("gcc (cgo builds Pebble's zstd and SQLite); e.g. apt-get install gcc")
if [ "$need_java" = java ]; then
	if ! command -v java >/dev/null 2>&1; then
		missing+=("Java 17 or newer, for the Apache Kafka broker of the tests; e.g. apt-get install openjdk-17-jre-headless")
	else
		jv=$(java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -1)
		if [ -z "$jv" ] || [ "$jv" -lt 17 ]; then
			missing+=("Java 17 or newer (found ${jv:-unknown})")
		fi
	fi
	command -v mvn >/dev/null 2>&1 || missing+=("Maven, to fetch the Apache Kafka jars; e.g. apt-get install maven")
	command -v psql >/dev/null 2>&1 || missing+=("psql, which the PostgreSQL endpoint's tests run; e.g. apt-get install postgresql-client")
	# The export test reads exports with kafka-python, installed by pip into
	# a venv it creates.
	if ! command -v python3 >/dev/null 2>&1; then
		missing+=("Python 3 with venv, for the test that reads exports with kafka-python; e.g. apt-get install python3 python3-venv")
	elif ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
		missing+=("Python 3's venv module (with ensurepip), for the test that reads exports with kafka-python; e.g. apt-get install python3-venv")
	fi
fi
if [ ${#missing[@]} -gt 0 ]; then
	echo "lakenode: missing prerequisites:" >&2
	for m in "${missing[@]}"; do echo "  - $m" >&2; done
	exit 1
fi
