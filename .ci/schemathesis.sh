#!/usr/bin/env bash
# The console's API against its own openapi.json: schemathesis (pinned) generates requests for
# every documented operation of a disposable deployment (the debug binary `cargo test` built, its
# own SQLite database, the in-process sandbox, other ports) and fails on any server error or any
# answer the schema does not describe. Seeded and bounded, so a run is repeatable and short.
#
#   bash .ci/schemathesis.sh            # after `cargo build` (or `cargo test`)
set -euo pipefail
cd "$(dirname "$0")/.."

SCHEMATHESIS_VERSION=4.32.5
PORT_CONSOLE=18080
BIN=target/debug/kicau
[ -x "$BIN" ] || cargo build --quiet

work=$(mktemp -d)
pid=""
cleanup() {
    if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
    rm -rf "$work" .ci-schemathesis.toml
}
trap cleanup EXIT

echo "== schemathesis $SCHEMATHESIS_VERSION in a virtual environment"
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"

# The shipped configuration on ports of its own (the file must sit beside knowledge/).
sed -e "s/127.0.0.1:8080/127.0.0.1:$PORT_CONSOLE/" \
    -e 's/127.0.0.1:8090/127.0.0.1:18090/' \
    -e 's/127.0.0.1:8091/127.0.0.1:18091/' \
    -e 's/127.0.0.1:8092/127.0.0.1:18092/' bot.toml > .ci-schemathesis.toml
kicau() { "$BIN" --config .ci-schemathesis.toml --database-url "sqlite://$work/kicau.db" "$@"; }
# Started as the binary itself (not through the function) so that $! is its own process id.
kicau staff add ci --role admin >/dev/null
echo "kata-sandi-schemathesis-ci" | kicau staff password ci >/dev/null
token=$(kicau staff token ci)

"$BIN" --config .ci-schemathesis.toml --database-url "sqlite://$work/kicau.db" run \
    >"$work/run.log" 2>&1 &
pid=$!
for _ in $(seq 1 120); do
    if curl -sf "http://127.0.0.1:$PORT_CONSOLE/api/openapi.json" >/dev/null; then break; fi
    if ! kill -0 "$pid" 2>/dev/null; then cat "$work/run.log"; exit 1; fi
    sleep 1
done
# A conversation, a ticket and their ids, so that generated requests also reach real records.
curl -sf -X POST http://127.0.0.1:18090/2/tweets -H 'Authorization: Bearer sandbox-user:warga1' \
    -H 'Content-Type: application/json' \
    -d '{"text":"@PemkotMalang jalan berlubang di depan pasar besar, tolong diperbaiki"}' >/dev/null
sleep 3

echo "== schemathesis against http://127.0.0.1:$PORT_CONSOLE/api/openapi.json"
status=0
timeout 300 "$work/venv/bin/schemathesis" run "http://127.0.0.1:$PORT_CONSOLE/api/openapi.json" \
    --header "Authorization: Bearer $token" \
    --checks not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance \
    --max-examples 40 \
    --seed 20261206 \
    --request-timeout 5 \
    --workers 1 \
    --exclude-path /events \
    --suppress-health-check all \
    --no-color || status=$?
if [ "$status" -ne 0 ]; then
    echo "== schemathesis failed ($status); the deployment's log:"
    tail -n 40 "$work/run.log"
fi
exit "$status"
