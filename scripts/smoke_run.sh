#!/usr/bin/env bash
# Starts `make run` as a user would (no DATABASE_URL, no REDIS_URL: embedded PostgreSQL and the
# file broker), waits for /healthz, calls an authenticated endpoint with the printed demo key,
# then stops it with Ctrl-C (SIGINT) and checks that nothing it started is left running.
set -euo pipefail
cd "$(dirname "$0")/.."
PORT="${SMOKE_PORT:-8765}"
LOG="$(mktemp)"
unset DATABASE_URL REDIS_URL CELERY_BROKER_URL
PORT="$PORT" setsid make run >"$LOG" 2>&1 &
PGID=$!
cleanup() { kill -INT -- "-$PGID" 2>/dev/null || true; }
trap cleanup EXIT

for _ in $(seq 1 240); do
  if curl -fsS "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1; then break; fi
  if ! kill -0 "$PGID" 2>/dev/null; then echo "make run exited early:"; cat "$LOG"; exit 1; fi
  sleep 1
done
curl -fsS "http://127.0.0.1:$PORT/healthz"; echo
KEY="$(grep -o 'cp_sk_test_[A-Za-z0-9]*' "$LOG" | head -1)"
[ -n "$KEY" ] || { echo "no demo key printed:"; cat "$LOG"; exit 1; }
curl -fsS -H "Authorization: Bearer $KEY" "http://127.0.0.1:$PORT/api/v1/pay/api-keys" \
  | python3 -c 'import json,sys; body=json.load(sys.stdin); assert body["success"], body; print("authenticated call ok:", len(body["data"]), "keys")'
for _ in $(seq 1 30); do
  grep -q "celery@.* ready" "$LOG" && break
  sleep 1
done
grep -q "celery@.* ready" "$LOG" || { echo "the Celery worker never became ready:"; cat "$LOG"; exit 1; }

kill -INT -- "-$PGID"
trap - EXIT
for _ in $(seq 1 30); do kill -0 "$PGID" 2>/dev/null || break; sleep 1; done
if kill -0 "$PGID" 2>/dev/null; then echo "make run did not stop on Ctrl-C"; cat "$LOG"; exit 1; fi
if pgrep -f "gunicorn cynco.wsgi.*:$PORT" >/dev/null; then echo "web server left running"; exit 1; fi
grep -q "\[make run\] stopped" "$LOG" || { echo "no clean stop:"; tail -20 "$LOG"; exit 1; }
echo "smoke run ok"
