#!/usr/bin/env bash
# Starts `make run` as a user would (no DATABASE_URL, no REDIS_URL: embedded PostgreSQL and the
# file broker), waits for /healthz, calls an authenticated endpoint with the printed demo key,
# then stops it with Ctrl-C (SIGINT) and checks that nothing it started is left running.
# Every failure says what failed and shows the end of make run's output.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { echo "[smoke] $*"; }
LOG="$(mktemp)"
fail() {
  say "FAILED: $*"
  say "last lines of make run's output ($LOG):"
  tail -40 "$LOG" | sed 's/^/    /'
  exit 1
}
trap 'fail "command failed at line $LINENO: $BASH_COMMAND"' ERR

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
PORT="${SMOKE_PORT:-$(free_port)}"
if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
  fail "port $PORT is already in use by another program (unset SMOKE_PORT to pick a free one)"
fi
say "make run on port $PORT (log: $LOG)"
unset DATABASE_URL REDIS_URL CELERY_BROKER_URL
PORT="$PORT" setsid make run >"$LOG" 2>&1 &
PGID=$!
cleanup() { kill -INT -- "-$PGID" 2>/dev/null || true; }
trap cleanup EXIT

for _ in $(seq 1 240); do
  if curl -fsS "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1; then break; fi
  kill -0 "$PGID" 2>/dev/null || fail "make run exited before /healthz answered"
  sleep 1
done
HEALTH="$(curl -fsS "http://127.0.0.1:$PORT/healthz")" || fail "/healthz never answered on port $PORT"
say "healthz: $HEALTH"
grep -q "serving on http://127.0.0.1:$PORT" "$LOG" \
  || fail "something answered /healthz on port $PORT, but not this make run"
KEY="$(grep -o 'cp_sk_test_[A-Za-z0-9]*' "$LOG" | head -1 || true)"
[ -n "$KEY" ] || fail "make run printed no demo key (cp_sk_test_…)"
curl -fsS -H "Authorization: Bearer $KEY" "http://127.0.0.1:$PORT/api/v1/pay/api-keys" \
  | python3 -c 'import json,sys; body=json.load(sys.stdin); assert body["success"], body; print("[smoke] authenticated call ok:", len(body["data"]), "keys")' \
  || fail "the authenticated call with the demo key failed"
for _ in $(seq 1 30); do
  grep -q "celery@.* ready" "$LOG" && break
  sleep 1
done
grep -q "celery@.* ready" "$LOG" || fail "the Celery worker never became ready"

kill -INT -- "-$PGID"
trap - EXIT
for _ in $(seq 1 30); do kill -0 "$PGID" 2>/dev/null || break; sleep 1; done
kill -0 "$PGID" 2>/dev/null && fail "make run did not stop on Ctrl-C"
pgrep -f "gunicorn cynco.wsgi.*:$PORT" >/dev/null && fail "the web server was left running"
grep -q "\[make run\] stopped" "$LOG" || fail "make run did not report a clean stop"
trap - ERR
say "smoke run ok"
