#!/usr/bin/env bash
# Runs the SIP parse + serialise comparison (crates/sip/benches/compare.rs: our `sip` crate
# beside `rsip`) and prints a markdown table from criterion's estimates (mean point estimate).
#
#   bench/sip-compare.sh            # full criterion run (about 1 minute of measuring)
#   bench/sip-compare.sh --quick    # criterion's quick mode: seconds, rougher numbers
#
# Any arguments go to criterion after `--noplot`. Needs cargo and python3 (to read JSON).
set -euo pipefail

cd "$(dirname "$0")/.."
target_dir=$(cargo metadata --format-version 1 --no-deps \
    | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')

# Only estimates written by this run count: stale results of renamed messages are skipped.
stamp=$(mktemp)
trap 'rm -f "$stamp"' EXIT

cargo bench -p sip --bench compare -- --noplot "$@" >&2

python3 - "$target_dir/criterion" "$stamp" <<'EOF'
import glob, json, os, sys

root, stamp = sys.argv[1], sys.argv[2]
since = os.path.getmtime(stamp)
results = {}  # message -> {side: mean ns}
order = []
# In the order the run measured them (criterion writes each estimate when it is done).
found = glob.glob(os.path.join(root, "*", "*", "new", "benchmark.json"))
for meta_path in sorted(found, key=lambda p: os.path.getmtime(os.path.join(os.path.dirname(p), "estimates.json"))
                        if os.path.exists(os.path.join(os.path.dirname(p), "estimates.json")) else 0):
    est_path = os.path.join(os.path.dirname(meta_path), "estimates.json")
    if not os.path.exists(est_path) or os.path.getmtime(est_path) < since:
        continue
    with open(meta_path) as f:
        meta = json.load(f)
    group = meta["group_id"]
    if not group.startswith("compare/"):
        continue
    with open(est_path) as f:
        mean_ns = json.load(f)["mean"]["point_estimate"]
    message = group[len("compare/"):]
    if message not in results:
        results[message] = {}
        order.append(message)
    results[message][meta["function_id"]] = mean_ns

if not results:
    sys.exit("sip-compare: no criterion estimates from this run under " + root)

print("| message | ours (sip) µs | rsip µs | ratio (rsip / ours) | ours msgs/s | rsip msgs/s |")
print("| --- | ---: | ---: | ---: | ---: | ---: |")
for message in order:
    ours, theirs = results[message].get("sip"), results[message].get("rsip")
    if ours is None or theirs is None:
        print(f"| {message} | missing | missing | | | |")
        continue
    print(f"| {message} | {ours / 1000:.2f} | {theirs / 1000:.2f} | {theirs / ours:.2f}x "
          f"| {1e9 / ours:,.0f} | {1e9 / theirs:,.0f} |")
EOF
