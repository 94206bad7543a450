#!/usr/bin/env bash
# Runs every ```sql block of README.md, in order, in one fresh database, with
# psql -X -v ON_ERROR_STOP=1; exits non-zero if any statement fails.
#
# Connects with PGHOST, PGPORT and PGUSER from the environment (test/run
# exports them for its throwaway cluster).  The database, readme_examples
# unless PGM_README_DB says otherwise, is dropped first if it exists.
#
# The blocks are copied into one script with every other line of README.md
# blanked out, so a line number in psql's error message is the README's.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
README=$ROOT/README.md
DB=${PGM_README_DB:-readme_examples}
PSQL=${PSQL:-psql}

SCRIPT=$(mktemp /tmp/readme_examples.XXXXXX)
trap 'rm -f "$SCRIPT"' EXIT

# keep the lines inside ```sql ... ``` fences, blank out everything else
awk '
	!inside && /^```sql[[:space:]]*$/	{ inside = 1; print ""; next }
	inside && /^```[[:space:]]*$/		{ inside = 0; print ""; next }
	inside								{ print; next }
										{ print "" }
	END { if (inside) { print "README.md: unterminated ```sql block" > "/dev/stderr"; exit 1 } }
' "$README" >"$SCRIPT"

blocks=$(grep -c '^```sql[[:space:]]*$' "$README" || true)
if [ "$blocks" -eq 0 ]; then
	echo "README.md has no \`\`\`sql blocks" >&2
	exit 1
fi
echo "running $blocks sql blocks from README.md in database $DB"

"$PSQL" -X -q -d postgres -v ON_ERROR_STOP=1 \
	-c "SET client_min_messages = warning" \
	-c "DROP DATABASE IF EXISTS $DB" \
	-c "CREATE DATABASE $DB"

# line numbers in psql's messages ("psql:/tmp/readme_examples.X:123:") are README.md's
"$PSQL" -X -v ON_ERROR_STOP=1 -d "$DB" -f "$SCRIPT"
echo "all README.md sql blocks ran"
