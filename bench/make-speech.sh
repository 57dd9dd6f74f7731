#!/usr/bin/env bash
# Makes a speech sample for audio-quality figures (bench/pesq.py): about 10 s of English
# sentences spoken by espeak-ng, as 48 kHz mono 16-bit WAV, normalised to -3 dBFS peak.
#
#   bench/make-speech.sh OUT.wav
#
# Installs espeak-ng and sox with apt-get when missing (as root, or through sudo).
set -euo pipefail

if (($# != 1)); then
  echo "usage: $0 OUT.wav" >&2
  exit 2
fi
out=$1

if ! command -v espeak-ng >/dev/null || ! command -v sox >/dev/null; then
  echo "make-speech: installing espeak-ng and sox" >&2
  as_root=(env DEBIAN_FRONTEND=noninteractive)
  if ((EUID != 0)); then
    command -v sudo >/dev/null || { echo "make-speech: need root or sudo to install espeak-ng sox" >&2; exit 1; }
    as_root=(sudo "${as_root[@]}")
  fi
  "${as_root[@]}" apt-get update
  "${as_root[@]}" apt-get install -y --no-install-recommends espeak-ng sox
fi

text="Thank you for calling. Please hold while we connect your call. \
The quick brown fox jumps over the lazy dog. We will be with you shortly."

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# espeak-ng writes 22,050 Hz mono 16-bit; sox pads a quarter second of silence at each end,
# resamples (high quality), dithers to 16 bits and normalises the peak to -3 dBFS.
espeak-ng -v en-us -s 155 -w "$tmp/raw.wav" "$text"
sox "$tmp/raw.wav" -r 48000 -c 1 -b 16 "$out" pad 0.25 0.25 rate -v 48000 norm -3

echo "make-speech: $out: $(soxi -D "$out") s, $(soxi -r "$out") Hz, $(soxi -c "$out") channel, $(soxi -b "$out") bit" >&2
