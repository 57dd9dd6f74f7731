#!/usr/bin/env python3
"""Two Linphone console clients (linphonec 5.1, Debian package linphone-cli) call each other
through the throwaway Kamailio of interop/kamailio/, on loopback only, the way a WebRTC peer
would: ICE, DTLS-SRTP (mandatory), AVPF, rtcp-mux, Opus/PCMU, RFC 4733 DTMF.

alice plays a 1000 Hz tone (WAV), bob plays 700 Hz; each records what it hears to a WAV file.
Steps: register both, alice calls bob, bob answers, DTLS + ICE are checked, DTMF alice->bob,
hold/resume, hang up, the recordings are checked for the tones (Goertzel).

Standard library only. Needs: linphonec (apt-get install linphone-cli), kamailio (scripts/setup),
cc (to build loopback-only.so, see loopback-only.c), stdbuf (coreutils), openssl.

Usage: run-pair.py [--transport udp|tcp] [--keep] [--save-sdp DIR] [--verbose]
Exit 0 on success; non-zero with a message saying which step failed.
"""

import argparse
import math
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import wave

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
T0 = time.monotonic()
VERBOSE = False


def log(msg):
    print(f"[{time.monotonic() - T0:6.2f}s] {msg}", flush=True)


class Failure(Exception):
    pass


def free_port(kind=socket.SOCK_STREAM, both=False):
    """A port free for TCP (and UDP when both=True) on 127.0.0.1."""
    for _ in range(50):
        s = socket.socket(socket.AF_INET, kind)
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        if both or kind == socket.SOCK_DGRAM:
            ok = True
            for k in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
                t = socket.socket(socket.AF_INET, k)
                try:
                    t.bind(("127.0.0.1", port))
                except OSError:
                    ok = False
                finally:
                    t.close()
            if not ok:
                continue
        return port
    raise Failure("no free port")


def write_tone(path, freq, seconds=30.0, rate=16000, amplitude=8000):
    frames = bytearray()
    for i in range(int(rate * seconds)):
        frames += struct.pack("<h", int(amplitude * math.sin(2 * math.pi * freq * i / rate)))
    with wave.open(path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(bytes(frames))


def goertzel_ratio(samples, rate, freq):
    """Share of the block's energy at `freq` (0..1)."""
    n = len(samples)
    k = round(n * freq / rate)
    w = 2 * math.pi * k / n
    coeff = 2 * math.cos(w)
    s1 = s2 = 0.0
    for x in samples:
        s0 = x + coeff * s1 - s2
        s2, s1 = s1, s0
    power = s1 * s1 + s2 * s2 - coeff * s1 * s2
    energy = sum(x * x for x in samples)
    if energy <= 0:
        return 0.0
    return (2 * power / n) / energy


def analyse(path, freq):
    """(seconds with the tone dominant, seconds with sound, total seconds) of a 16-bit WAV."""
    with wave.open(path, "rb") as w:
        rate, ch, width = w.getframerate(), w.getnchannels(), w.getsampwidth()
        raw = w.readframes(w.getnframes())
    if width != 2:
        raise Failure(f"{path}: {width * 8}-bit samples, expected 16")
    count = len(raw) // 2
    data = struct.unpack(f"<{count}h", raw[: count * 2])[::ch]
    block = rate // 10  # 100 ms
    toned = loud = 0
    for i in range(0, len(data) - block, block):
        b = data[i : i + block]
        rms = math.sqrt(sum(x * x for x in b) / block)
        if rms < 100:
            continue
        loud += 1
        if goertzel_ratio(b, rate, freq) > 0.8:
            toned += 1
    return toned / 10, loud / 10, len(data) / rate, rate


class Linphonec:
    """One linphonec process driven through stdin/stdout."""

    def __init__(self, name, workdir, rc, shim):
        self.name = name
        self.dir = workdir
        self.lines = []
        self.cursor = 0
        self.cond = threading.Condition()
        env = dict(os.environ)
        env["HOME"] = workdir  # linphonec keeps ~/.local/share/linphone and readline history there
        env["LD_PRELOAD"] = shim
        self.log_path = os.path.join(workdir, "linphone.log")
        cmd = ["stdbuf", "-oL", "-eL", "linphonec", "-c", rc, "-d", "6", "-l", self.log_path]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, env=env, cwd=workdir,
                                     start_new_session=True)
        self.out = open(os.path.join(workdir, "stdout.txt"), "w")
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for raw in self.proc.stdout:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            # the prompt is printed without a newline before the next output
            while line.startswith("linphonec> "):
                line = line[len("linphonec> "):]
            self.out.write(line + "\n")
            self.out.flush()
            if VERBOSE:
                print(f"    {self.name}| {line}", flush=True)
            with self.cond:
                self.lines.append(line)
                self.cond.notify_all()
        with self.cond:
            self.lines.append("<EOF>")
            self.cond.notify_all()

    def send(self, command):
        if VERBOSE:
            print(f"    {self.name}< {command}", flush=True)
        self.proc.stdin.write((command + "\n").encode())
        self.proc.stdin.flush()

    def wait_for(self, pattern, timeout, what):
        """Waits for a line matching pattern (after the previous match); returns the match."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                while self.cursor < len(self.lines):
                    line = self.lines[self.cursor]
                    self.cursor += 1
                    m = rx.search(line)
                    if m:
                        return m
                    if line == "<EOF>":
                        raise Failure(f"{self.name}: linphonec exited while waiting for {what}")
                left = deadline - time.monotonic()
                if left <= 0:
                    raise Failure(f"{self.name}: no {what} within {timeout}s "
                                  f"(wanted /{pattern}/; see {self.dir}/stdout.txt and linphone.log)")
                self.cond.wait(left)

    def command(self, command, pattern, timeout, what):
        self.send(command)
        return self.wait_for(pattern, timeout, what)

    def log_text(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def stop(self):
        if self.proc.poll() is None:
            try:
                self.send("quit")
                self.proc.wait(5)
            except Exception:
                pass
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()


def sent_sip_messages(log_text):
    """The SIP messages a Linphone log shows as sent (belle-sip logs each one in full at level 6:
    'channel [..]: message sent to [UDP://127.0.0.1:PORT], size: [N] bytes' then the message)."""
    msgs = []
    lines = log_text.split("\n")
    stamp = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d:\d+ ")
    i = 0
    while i < len(lines):
        if re.search(r"\]: message sent to \[[^\]]*\], size: \[\d+\] bytes$", lines[i]):
            j = i + 1
            body = []
            while j < len(lines) and not stamp.match(lines[j]):
                body.append(lines[j].rstrip("\r"))
                j += 1
            msgs.append("\n".join(body).strip("\n"))
            i = j
        else:
            i += 1
    return msgs


def invite_exchange(caller_log, callee_log, marker=None):
    """(the caller's first INVITE whose SDP has `marker`, the callee's 200 OK to it), as logged."""
    def has(m):
        return "\nv=0" in m and (marker is None or marker in m)
    offer = next((m for m in sent_sip_messages(caller_log) if m.startswith("INVITE ") and has(m)), None)
    if offer is None:
        return None, None
    cseq = re.search(r"^CSeq: (\d+) INVITE$", offer, re.M).group(1)
    answer = next((m for m in sent_sip_messages(callee_log)
                   if m.startswith("SIP/2.0 200") and re.search(rf"^CSeq: {cseq} INVITE$", m, re.M) and "\nv=0" in m), None)
    return offer, answer


def main():
    global VERBOSE
    ap = argparse.ArgumentParser()
    ap.add_argument("--transport", choices=["udp", "tcp"], default="udp")
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    ap.add_argument("--save-sdp", metavar="DIR", help="write captured-sdp-offer.txt/-answer.txt there")
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args()
    VERBOSE = args.verbose

    for tool in ("linphonec", "kamailio", "cc", "stdbuf", "openssl"):
        if not shutil.which(tool):
            print(f"FAIL: {tool} not found (linphonec: apt-get install linphone-cli; kamailio: scripts/setup)")
            return 2

    work = tempfile.mkdtemp(prefix="linphone-pair-")
    log(f"work directory {work}")
    procs = []
    kam = None
    try:
        shim = os.path.join(work, "loopback-only.so")
        subprocess.run(["cc", "-shared", "-fPIC", "-O2", "-o", shim, os.path.join(HERE, "loopback-only.c")], check=True)

        # Kamailio (self-signed certificate made by start.sh; WSS is not used by this script)
        ws, wss, sip = free_port(), free_port(), free_port(both=True)
        kdir = os.path.join(work, "kamailio")
        os.makedirs(kdir)
        klog = open(os.path.join(kdir, "kamailio.log"), "w")
        kam = subprocess.Popen(["bash", os.path.join(ROOT, "interop/kamailio/start.sh"), kdir, str(ws), str(wss), str(sip)],
                               stdout=subprocess.DEVNULL, stderr=klog, start_new_session=True)
        deadline = time.monotonic() + 15
        while True:
            try:
                socket.create_connection(("127.0.0.1", sip), 0.5).close()
                break
            except OSError:
                if kam.poll() is not None or time.monotonic() > deadline:
                    raise Failure(f"Kamailio did not start (see {kdir}/kamailio.log)")
                time.sleep(0.1)
        log(f"Kamailio up: SIP udp/tcp 127.0.0.1:{sip}, WS {ws}, WSS {wss}")

        tones = {"alice": 1000, "bob": 700}
        template = open(os.path.join(HERE, "linphonerc.in")).read()
        phones = {}
        for user, pw in (("alice", "alicepw"), ("bob", "bobpw")):
            d = os.path.join(work, user)
            os.makedirs(d)
            rc = os.path.join(d, "linphonerc")
            audio_port = free_port(socket.SOCK_DGRAM)
            text = (template.replace("@USER@", user).replace("@PASSWORD@", pw)
                    .replace("@PROXY_PORT@", str(sip)).replace("@TRANSPORT@", args.transport)
                    .replace("@AUDIO_PORT@", str(audio_port)).replace("@DIR@", d))
            with open(rc, "w") as f:
                f.write(text)
            write_tone(os.path.join(d, "tone.wav"), tones[user])
            t = time.monotonic()
            p = Linphonec(user, d, rc, shim)
            procs.append(p)
            phones[user] = p
            # 'status register' answers at once; poll until the REGISTER got its 200
            deadline = time.monotonic() + 15
            while True:
                m = p.command("status register", r"^(registered|registered=|unregistered|No default proxy)", 5, "status register answer")
                if m.group(1) == "registered" :
                    break
                if time.monotonic() > deadline:
                    raise Failure(f"{user} did not register (see {d}/linphone.log and {kdir}/kamailio.log)")
                time.sleep(0.2)
            log(f"{user} registered over {args.transport} in {time.monotonic() - t:.2f}s after start")
            p.command("soundcard use files", r"Using wav files instead of soundcard", 5, "'soundcard use files'")
            p.send(f"play {d}/tone.wav")
            p.send(f"record {d}/heard.wav")
        alice, bob = phones["alice"], phones["bob"]

        # Call
        t = time.monotonic()
        alice.command("call sip:bob@sip.test", r"Establishing call id to .*, assigned id (\d+)", 5, "call id")
        m = bob.wait_for(r"Receiving new incoming call from (.*), assigned id (\d+)", 10, "incoming call")
        log(f"bob rings ({time.monotonic() - t:.2f}s): from {m.group(1)}")
        t = time.monotonic()
        bob.send("answer")
        bob.wait_for(r"Call \d+ with .* connected\.", 10, "bob connected")
        alice.wait_for(r"Call \d+ with .* connected\.", 10, "alice connected")
        log(f"connected ({time.monotonic() - t:.2f}s after answer)")
        for p in (alice, bob):
            p.wait_for(r"Media streams established with .* for call \d+", 10, "media streams established")
        # encryption_changed callback: DTLS handshake done on the audio stream
        for p in (alice, bob):
            m = p.wait_for(r"Call \d+ is (fully|not fully) encrypted", 10, "encryption report")
            if m.group(1) != "fully":
                raise Failure(f"{p.name}: call is not fully encrypted")
        log(f"both report the call fully encrypted ({time.monotonic() - t:.2f}s after answer)")

        time.sleep(3)  # audio flows both ways

        # DTMF (RFC 4733): linphonec sends each digit of a line that starts with a digit, '*' or '#'
        for digit in ("1", "5", "#", "*"):
            t = time.monotonic()
            alice.send(digit)
            bob.wait_for(r"Receiving tone " + re.escape(digit) + r" from", 5, f"DTMF {digit}")
            log(f"bob received DTMF {digit} ({time.monotonic() - t:.2f}s)")

        # Hold / resume (re-INVITE a=sendonly / a=sendrecv)
        t = time.monotonic()
        alice.send("pause")
        alice.wait_for(r"Call \d+ with .* is now paused\.", 10, "paused")
        bob.wait_for(r"Call \d+ has been paused by", 10, "paused by remote")
        log(f"on hold ({time.monotonic() - t:.2f}s)")
        time.sleep(2)
        t = time.monotonic()
        alice.send("resume")
        alice.wait_for(r"Resuming call \d+ with", 10, "resuming (alice)")
        alice.wait_for(r"Media streams established with .* for call \d+", 10, "media after resume (alice)")
        bob.wait_for(r"Media streams established with .* for call \d+", 10, "media after resume (bob)")
        log(f"resumed ({time.monotonic() - t:.2f}s)")
        time.sleep(3)

        # Hang up
        t = time.monotonic()
        alice.send("terminate")
        alice.wait_for(r"Call \d+ with .* ended", 10, "call ended (alice)")
        bob.wait_for(r"Call \d+ with .* ended", 10, "call ended (bob)")
        log(f"hung up ({time.monotonic() - t:.2f}s)")
        time.sleep(0.5)
        for p in (alice, bob):
            p.stop()

        # What the logs say about ICE, DTLS and the SDP
        problems = []
        for p in (alice, bob):
            text = p.log_text()
            # liblinphone: "ICE state is IceStateHostConnection for stream#0 [audio] in state [Running]"
            ice_ok = re.search(r"ICE state is IceStateHostConnection for stream#0 \[audio\]", text)
            # mediastreamer: "DTLS Handshake on RTP channel successful, srtp protection profile 1"
            # liblinphone: "All streams are encrypted, key exchanged using DTLS"
            dtls_ok = (re.search(r"DTLS Handshake on RTP channel successful", text)
                       and re.search(r"All streams are encrypted, key exchanged using DTLS", text))
            log(f"{p.name}: ICE completed: {bool(ice_ok)}; DTLS handshake done: {bool(dtls_ok)}")
            if not ice_ok:
                problems.append(f"{p.name}: no sign of ICE completion in {p.log_path}")
            if not dtls_ok:
                problems.append(f"{p.name}: no sign of DTLS handshake in {p.log_path}")

        offer, answer = invite_exchange(alice.log_text(), bob.log_text())
        hold_offer, hold_answer = invite_exchange(alice.log_text(), bob.log_text(), "\na=sendonly")
        if args.save_sdp and hold_offer and hold_answer:
            os.makedirs(args.save_sdp, exist_ok=True)
            for label, msg in (("hold-offer", hold_offer), ("hold-answer", hold_answer)):
                with open(os.path.join(args.save_sdp, f"captured-sdp-{label}.txt"), "w") as f:
                    f.write(msg + "\n")
        if offer is None or answer is None:
            problems.append("could not find alice's INVITE / bob's 200 OK in the Linphone logs")
        else:
            for label, msg in (("offer", offer), ("answer", answer)):
                sdp = msg.split("\n\n", 1)[1]
                facts = []
                for rx, name in ((r"^m=audio \d+ (\S+ [\d ]+)", "m=audio"), (r"^a=setup:(\S+)", "setup"),
                                 (r"^a=fingerprint:(\S+)", "fingerprint"), (r"^a=(rtcp-mux)$", "rtcp-mux"),
                                 (r"^a=candidate:(.*)$", "candidates"), (r"^a=(mid:.*)$", "mid"),
                                 (r"^a=(group:BUNDLE.*)$", "BUNDLE"), (r"^a=(sendonly|recvonly|inactive|sendrecv)$", "direction")):
                    found = re.findall(rx, sdp, re.M)
                    facts.append(f"{name}={found if found else 'absent'}")
                log(f"SDP {label}: " + "; ".join(facts))
                if args.save_sdp:
                    os.makedirs(args.save_sdp, exist_ok=True)
                    with open(os.path.join(args.save_sdp, f"captured-sdp-{label}.txt"), "w") as f:
                        f.write(msg + "\n")
            if "UDP/TLS/RTP/SAVPF" not in offer or "a=fingerprint:" not in answer:
                problems.append("the SDP is not DTLS-SRTP (UDP/TLS/RTP/SAVPF with a fingerprint)")

        # Audio both ways
        for p, hear in ((bob, tones["alice"]), (alice, tones["bob"])):
            path = os.path.join(p.dir, "heard.wav")
            if not os.path.exists(path):
                problems.append(f"{p.name}: no recording {path}")
                continue
            toned, loud, total, rate = analyse(path, hear)
            log(f"{p.name} recorded {total:.1f}s at {rate} Hz: {loud:.1f}s with sound, {toned:.1f}s of {hear} Hz")
            if toned < 3:
                problems.append(f"{p.name}: heard only {toned:.1f}s of the {hear} Hz tone (recording {path})")

        if problems:
            raise Failure("; ".join(problems))
        log("PASS: register, call, ICE, DTLS-SRTP, audio both ways, DTMF, hold/resume, hang-up")
        return 0
    except Failure as e:
        log(f"FAIL: {e}")
        args.keep = True
        return 1
    finally:
        for p in procs:
            try:
                p.stop()
            except Exception:
                pass
        if kam is not None and kam.poll() is None:
            os.killpg(kam.pid, signal.SIGTERM)
            try:
                kam.wait(5)
            except subprocess.TimeoutExpired:
                os.killpg(kam.pid, signal.SIGKILL)
        if args.keep:
            log(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
