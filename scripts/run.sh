#!/usr/bin/env bash
# Start Partnerdesk locally: migrate, load demo data once, then web server and task worker together.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
PORT="${PORT:-8000}"
export DEBUG="${DEBUG:-1}" PORT

$BIN/python manage.py migrate --noinput -v0
$BIN/python manage.py createcachetable
$BIN/python manage.py collectstatic --noinput -v0
$BIN/python manage.py demo

pids=()
cleanup() {
  trap - INT TERM EXIT
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  echo "Stopped web server and worker."
}
trap cleanup INT TERM EXIT

$BIN/python manage.py db_worker --queue-name '*' --interval 1 &
pids+=($!)
$BIN/python manage.py scheduler &
pids+=($!)
$BIN/gunicorn partnerdesk.wsgi:application --bind "127.0.0.1:${PORT}" --workers "${WEB_WORKERS:-2}" --threads 2 \
  --access-logfile - --graceful-timeout 5 &
pids+=($!)
echo "Partnerdesk is running at http://127.0.0.1:${PORT}/  (developer inbox: /dev/mail/, back office: /admin/). Ctrl-C stops it."
wait -n "${pids[@]}"
