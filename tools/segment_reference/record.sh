#!/bin/sh
# Regenerate tests/segment_reference/expected.jsonl (and definitions.json) from cases.jsonl
# by running Segment's published package (observation only). Run `npm ci` here first.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
fixtures="$here/../../tests/segment_reference"
node "$here/run.mjs" < "$fixtures/cases.jsonl" > "$fixtures/expected.jsonl.tmp"
mv "$fixtures/expected.jsonl.tmp" "$fixtures/expected.jsonl"
node "$here/dump-definitions.mjs" > "$fixtures/definitions.json.tmp"
mv "$fixtures/definitions.json.tmp" "$fixtures/definitions.json"
echo "recorded $(wc -l < "$fixtures/expected.jsonl") cases"
