#!/usr/bin/env bash
# A throwaway Redis for tests: `scripts/redis.sh start DIR [PORT]` starts redis-server on 127.0.0.1:PORT (default:
# a free port) with its files in DIR, no persistence (`--save '' --appendonly no`), and prints its URL;
# `scripts/redis.sh stop DIR` stops it (by the PID in DIR/redis.pid). Nothing is durable.
set -euo pipefail
command=${1:-}
dir=${2:-}
[ -n "$command" ] && [ -n "$dir" ] || { echo "usage: $0 start|stop DIR [PORT]" >&2; exit 2; }

case "$command" in
start)
    port=${3:-$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}
    mkdir -p "$dir"
    redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --protected-mode yes \
        --daemonize yes --pidfile "$dir/redis.pid" --dir "$dir" --logfile "$dir/redis.log" >/dev/null
    for _ in $(seq 1 100); do
        if [ "$(redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null)" = "PONG" ]; then
            echo "redis://127.0.0.1:$port/0"
            exit 0
        fi
        sleep 0.05
    done
    echo "redis-server did not answer on 127.0.0.1:$port" >&2
    cat "$dir/redis.log" >&2 || true
    exit 1
    ;;
stop)
    if [ -f "$dir/redis.pid" ]; then
        pid=$(cat "$dir/redis.pid")
        kill "$pid" 2>/dev/null || true
        for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
        kill -9 "$pid" 2>/dev/null || true
    fi
    ;;
*)
    echo "usage: $0 start|stop DIR [PORT]" >&2
    exit 2
    ;;
esac
