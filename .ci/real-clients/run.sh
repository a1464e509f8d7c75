#!/usr/bin/env bash
# Drives Kicau's sandbox with real client libraries (xdk, tweepy, python-telegram-bot, pywa) and
# prints PASS/FAIL per check (README.md in this folder).
#
#   bash .ci/real-clients/run.sh [KICAU_BINARY]           # default: $KICAU_BIN or target/debug/kicau
#   REAL_CLIENTS_VENV=/some/dir bash .ci/real-clients/run.sh   # where the virtual environment goes
#
# It creates (or reuses) a virtual environment outside the repository, installs the pinned
# requirements, writes a temporary copy of bot.toml with ports of its own (38090/38091/38092/38080)
# beside bot.toml (paths in it are relative to its folder), starts `kicau sandbox` with it, runs
# check.py (at most 300 s), stops the sandbox and removes the copy. Exit status: 0 when every
# check passed, 1 when any failed, 2 when the sandbox could not be started.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
cd "$REPO"

BIN="${1:-${KICAU_BIN:-target/debug/kicau}}"
VENV="${REAL_CLIENTS_VENV:-/tmp/kicau-real-clients-venv}"
CONFIG="$REPO/.real-clients.toml"
LOG="$(mktemp /tmp/kicau-real-clients-sandbox.XXXXXX.log)"
X_PORT=38090
CHECK_TIMEOUT=300

if [ ! -x "$BIN" ]; then
    echo "run.sh: no Kicau binary at $BIN (pass its path as the first argument or set KICAU_BIN)" >&2
    exit 2
fi
case "$VENV" in
    "$REPO"|"$REPO"/*) echo "run.sh: the virtual environment must live outside the repository ($VENV)" >&2; exit 2 ;;
esac

pid=""
cleanup() {
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    fi
    rm -f "$CONFIG" "$LOG"
}
trap cleanup EXIT

echo "== Python environment in $VENV"
if [ ! -x "$VENV/bin/python" ]; then
    python3 -m venv "$VENV"
fi
"$VENV/bin/pip" install --quiet --disable-pip-version-check -r "$HERE/requirements.txt"

port_answers() {
    "$VENV/bin/python" - "$1" <<'EOF'
import socket, sys
s = socket.socket()
s.settimeout(0.5)
try:
    s.connect(("127.0.0.1", int(sys.argv[1])))
except OSError:
    sys.exit(1)
EOF
}

for port in 38090 38091 38092; do
    if port_answers "$port"; then
        echo "run.sh: port $port is already in use; stop what listens there first" >&2
        exit 2
    fi
done

# The shipped configuration on ports of its own; $1 = extra [sandbox] line (may be empty).
write_config() {
    sed -e 's/127\.0\.0\.1:8090/127.0.0.1:38090/g' \
        -e 's/127\.0\.0\.1:8091/127.0.0.1:38091/g' \
        -e 's/127\.0\.0\.1:8092/127.0.0.1:38092/g' \
        -e 's/127\.0\.0\.1:8080/127.0.0.1:38080/g' \
        bot.toml > "$CONFIG"
    if [ -n "$1" ]; then
        # Replace the key where bot.toml ships it, else add it to [sandbox].
        key="${1%% =*}"
        if grep -q "^$key = " "$CONFIG"; then
            sed -i -e "s/^$key = .*/$1/" "$CONFIG"
        else
            sed -i -e "/^\[sandbox\]/a $1" "$CONFIG"
        fi
    fi
}

# Starts the sandbox; answers 0 once the X port answers, 1 when the process exits first.
start_sandbox() {
    : > "$LOG"
    "$BIN" --config "$CONFIG" sandbox >"$LOG" 2>&1 &
    pid=$!
    for _ in $(seq 1 150); do
        if port_answers "$X_PORT"; then return 0; fi
        if ! kill -0 "$pid" 2>/dev/null; then wait "$pid" 2>/dev/null || true; pid=""; return 1; fi
        sleep 0.2
    done
    echo "run.sh: the sandbox did not answer on port $X_PORT within 30 s" >&2
    return 1
}

# Tests run the sandbox strict (SANDBOX.md): use it when this build knows the key.
strict=on
write_config "strict = true"
if ! start_sandbox; then
    if grep -q "strict" "$LOG"; then
        echo "NOTE: this sandbox refuses '[sandbox] strict = true' ($(grep -m1 -o 'unknown field `strict`' "$LOG" || echo 'see its log')); running without it"
        strict=refused
        write_config ""
        if ! start_sandbox; then
            echo "run.sh: the sandbox did not start:" >&2; cat "$LOG" >&2; exit 2
        fi
    else
        echo "run.sh: the sandbox did not start:" >&2; cat "$LOG" >&2; exit 2
    fi
fi
echo "== sandbox $BIN running (pid $pid, strict: $strict)"

status=0
timeout "$CHECK_TIMEOUT" "$VENV/bin/python" "$HERE/check.py" --config "$CONFIG" --strict "$strict" || status=$?
if [ "$status" -eq 124 ]; then
    echo "FAIL run.timeout: check.py did not finish within ${CHECK_TIMEOUT}s"
fi
if [ "$status" -ne 0 ] && [ -s "$LOG" ]; then
    echo "== the sandbox's log (last 20 lines)"
    tail -n 20 "$LOG"
fi
exit $(( status == 0 ? 0 : 1 ))
