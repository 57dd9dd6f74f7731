#!/usr/bin/env bash
# The benchmark: our engine and the seed SDK (ringcentral-web-phone 2.5.4) in headless
# Chromium on the same rc-sim, in one run; then SIP parse + serialise beside another Rust SIP
# parser. Prints markdown tables (also kept in target/bench/). Flags go to the bench binary:
#   --quick          10 samples, 10 s windows, 1 and 4 calls (a few minutes)
#   --skip-chromium  our engine only
#   --skip-app       without the Tauri app's memory (needs Xvfb otherwise)
#   --only PART      one part: timing, load, app, latency, pesq or voicemail
# Takes about 25 minutes in full on 2 cores, most of it the release build and the 30 s windows.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup
# Speech for PESQ (espeak-ng, sox) and the PESQ scorer (PyPI pesq).
missing=()
for pkg in espeak-ng sox python3-venv; do
  [[ $(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true) == "install ok installed" ]] || missing+=("$pkg")
done
if ((${#missing[@]})); then
  sudo=(); ((EUID != 0)) && sudo=(sudo)
  "${sudo[@]}" apt-get update
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y --no-install-recommends "${missing[@]}"
fi
venv=target/bench/venv
[[ -x $venv/bin/python ]] || python3 -m venv "$venv"
"$venv/bin/python" -c 'import pesq, scipy, numpy' 2>/dev/null || "$venv/bin/python" -m pip install --quiet -r bench/requirements.txt
export BENCH_PYTHON=$PWD/$venv/bin/python

cargo build --release --locked -p bench -p softphone
target/release/bench "$@"
echo
bench/sip-compare.sh
