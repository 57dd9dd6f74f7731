#!/usr/bin/env python3
"""Wideband PESQ (ITU-T P.862.2) of a degraded recording against its reference.

    python3 bench/pesq.py REF.wav DEG.wav      -> {"pesq_wb": 4.64, "rate": 16000}
    python3 bench/pesq.py --selftest REF.wav   -> checks the tool on REF.wav (see selftest)

Both files are 16-bit mono WAV of any sample rate; both are resampled to 16 kHz. The degraded
file may start later than the reference (it went through a network echo): the lag of the best
cross-correlation match within its first 2 s is cut off, then both are trimmed to the same
length and scored with the `pesq` package in 'wb' mode.

Errors (missing file, wrong format, silence, too short) print one line on stderr, exit 2.
Needs numpy, scipy and pesq (bench/requirements.txt).
"""

import json
import os
import sys
import tempfile
from math import gcd

RATE = 16000  # wideband PESQ works at 16 kHz only
MAX_LAG_S = 2.0  # how late the degraded file may start
SILENCE_PEAK = 32768 * 10 ** (-60 / 20)  # a peak below -60 dBFS counts as silence

# This file is named pesq.py too: drop its own folder from the import path, or `import pesq`
# would find this script instead of the PyPI package.
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path = [p for p in sys.path if os.path.abspath(p or os.curdir) != _HERE]


class ToolError(Exception):
    """A problem with the input, reported on stderr with exit code 2."""


def _imports():
    try:
        import numpy as np
        from pesq import PesqError, pesq
        from scipy.io import wavfile
        from scipy.signal import correlate, correlation_lags, resample_poly
    except ImportError as e:
        raise ToolError(f"missing Python package ({e.name}); pip install -r bench/requirements.txt") from e
    return np, pesq, PesqError, wavfile, correlate, correlation_lags, resample_poly


def read_wav(path):
    """Reads a 16-bit mono WAV: returns (sample rate, int16 samples)."""
    np, _, _, wavfile, *_ = _imports()
    if not os.path.isfile(path):
        raise ToolError(f"{path}: no such file")
    try:
        rate, data = wavfile.read(path)
    except (ValueError, EOFError, OSError) as e:
        raise ToolError(f"{path}: not a readable WAV file ({e})") from e
    if data.ndim != 1:
        raise ToolError(f"{path}: {data.shape[1]} channels, want mono")
    if data.dtype != np.int16:
        raise ToolError(f"{path}: samples are {data.dtype}, want 16-bit PCM")
    if len(data) == 0:
        raise ToolError(f"{path}: no samples")
    if np.max(np.abs(data.astype(np.int32))) < SILENCE_PEAK:
        raise ToolError(f"{path}: silent (peak below -60 dBFS)")
    return rate, data


def to_16k(rate, samples):
    """int16 samples at `rate` -> float64 in [-1, 1) at 16 kHz."""
    np, *_, resample_poly = _imports()
    x = samples.astype(np.float64) / 32768.0
    if rate == RATE:
        return x
    g = gcd(RATE, rate)
    return resample_poly(x, RATE // g, rate // g)


def align(ref, deg):
    """Cuts from `deg` the lag (0 to 2 s) at which it best matches `ref`; trims both to the
    same length. Returns (ref, deg, lag in samples)."""
    np, _, _, _, correlate, correlation_lags, _ = _imports()
    max_lag = int(MAX_LAG_S * RATE)
    # Only the start of deg can hold the match: correlate it with the start of ref.
    window = min(len(ref), 4 * RATE)
    head = deg[: window + max_lag]
    corr = correlate(head, ref[:window], mode="full", method="fft")
    lags = correlation_lags(len(head), window, mode="full")
    valid = (lags >= 0) & (lags <= max_lag)
    if not valid.any():
        raise ToolError("degraded recording is too short to align")
    lag = int(lags[valid][np.argmax(np.abs(corr[valid]))])
    deg = deg[lag:]
    n = min(len(ref), len(deg))
    return ref[:n], deg[:n], lag


def score(ref_path, deg_path):
    """Wideband PESQ of deg_path against ref_path, and the lag cut from deg (samples at 16 kHz)."""
    _, pesq, PesqError, *_ = _imports()
    ref = to_16k(*read_wav(ref_path))
    deg = to_16k(*read_wav(deg_path))
    ref, deg, lag = align(ref, deg)
    if len(ref) < RATE // 4:
        raise ToolError(f"only {len(ref) / RATE:.2f} s overlap after alignment; PESQ needs more")
    try:
        return float(pesq(RATE, ref, deg, "wb")), lag
    except PesqError as e:
        raise ToolError(f"PESQ failed: {type(e).__name__}: {e}") from e


def selftest(ref_path):
    """Scores REF against itself (about 4.6), against a copy with 5 % of its 20 ms frames zeroed
    (must be lower), and against a copy that starts 0.35 s late (the alignment must bring it back
    to the self score). All copies go through files, at REF's own rate. Returns an exit code."""
    np, _, _, wavfile, *_ = _imports()
    rate, ref = read_wav(ref_path)
    frame = rate * 20 // 1000
    frames = len(ref) // frame
    rng = np.random.default_rng(20)
    lost = rng.choice(frames, size=max(1, round(0.05 * frames)), replace=False)
    zeroed = ref.copy()
    for i in lost:
        zeroed[i * frame : (i + 1) * frame] = 0
    delay = np.zeros(int(0.35 * rate), dtype=np.int16)
    late = np.concatenate([delay, ref])

    with tempfile.TemporaryDirectory() as tmp:
        paths = {}
        for name, data in (("zeroed", zeroed), ("late", late)):
            paths[name] = os.path.join(tmp, f"{name}.wav")
            wavfile.write(paths[name], rate, data)
        self_score, _ = score(ref_path, ref_path)
        zeroed_score, _ = score(ref_path, paths["zeroed"])
        late_score, lag = score(ref_path, paths["late"])

    result = {
        "pesq_wb_self": round(self_score, 3),
        "pesq_wb_5pct_frames_zeroed": round(zeroed_score, 3),
        "frames_zeroed": f"{len(lost)} of {frames}",
        "pesq_wb_350ms_late": round(late_score, 3),
        "lag_found_ms": round(lag * 1000 / RATE, 1),
        "rate": RATE,
    }
    checks = {
        "self score is about 4.6 (>= 4.4)": self_score >= 4.4,
        "zeroed frames lower the score by at least 0.2": zeroed_score <= self_score - 0.2,
        "350 ms late copy is aligned (lag 350 ms, score within 0.05 of self)": abs(lag - 0.35 * RATE) <= 1
        and abs(late_score - self_score) <= 0.05,
    }
    result["failed"] = [name for name, ok in checks.items() if not ok]
    print(json.dumps(result))
    return 0 if not result["failed"] else 1


def main(argv):
    try:
        if len(argv) == 2 and argv[0] == "--selftest":
            return selftest(argv[1])
        if len(argv) != 2 or argv[0].startswith("-"):
            print("usage: pesq.py REF.wav DEG.wav | pesq.py --selftest REF.wav", file=sys.stderr)
            return 2
        value, _ = score(argv[0], argv[1])
        print(json.dumps({"pesq_wb": round(value, 3), "rate": RATE}))
        return 0
    except ToolError as e:
        print(f"pesq.py: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
