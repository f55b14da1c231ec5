#!/usr/bin/env bash
# Scale-out benchmark: starts its own PostgreSQL (scripts/pg.sh; stopped after) and runs
# `cargo bench --bench scale`: mutations/s with 32 writers and write-on-A → event-on-B
# latency, for SQLite, one node on PostgreSQL and two nodes on one database.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
. scripts/pg.sh
pg_start
trap pg_stop EXIT
cargo bench --features ssr --bench scale
