"""Run fastmel's benchmarks once and print the README's performance tables.

From the repository root, after ``python -m pip install -e '.[bench]'``::

    python -m benchmarks.report                  # run the suite, print Markdown tables
    python -m benchmarks.report --write-readme   # ... and put them in README.md
    python -m benchmarks.report --quick          # one round each: a smoke run, not numbers
    python -m benchmarks.report -k stream        # a pytest -k selection of the suite
    python -m benchmarks.report --json run.json  # tables of an earlier run, no new timing

It runs ``python -m pytest benchmarks --benchmark-only`` in a child process (whose pytest
output goes to stderr) with BLAS/OpenMP thread variables set to 1 unless already set, reads
the pytest-benchmark JSON of that one run and computes every ratio from it, from each
candidate's least time.  The tables name the CPU, the date and this command.
"""
import argparse
import json
import os
import pathlib
import subprocess
import sys
import tempfile

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent
README = ROOT / "README.md"
BEGIN = "<!-- benchmarks: begin (made by python -m benchmarks.report --write-readme) -->"
END = "<!-- benchmarks: end -->"
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def run_suite(rounds, quick, select, json_path):
    """One pytest-benchmark run of the suite into ``json_path``; pytest's exit status."""
    env = dict(os.environ)
    for name in THREAD_VARIABLES:
        env.setdefault(name, "1")
    cmd = [sys.executable, "-m", "pytest", str(HERE), "--benchmark-only", "-q", "-rs",
           "-p", "no:cacheprovider", f"--benchmark-min-rounds={rounds}",
           f"--benchmark-json={json_path}"]
    if quick:
        cmd += ["--benchmark-max-time=0", "--benchmark-warmup=off"]
    if select:
        cmd += ["-k", select]
    return subprocess.run(cmd, cwd=ROOT, env=env, stdout=sys.stderr).returncode



class Results:
    """Least times of one pytest-benchmark run, by (group, name)."""

    def __init__(self, data):
        self.data = data
        self.min = {}
        self.info = {}
        for b in data.get("benchmarks", []):
            key = (b.get("group"), b["name"])
            self.min[key] = b["stats"]["min"]
            self.info[key] = b.get("extra_info", {})
        self.used = set()

    def get(self, group, name):
        self.used.add((group, name))
        return self.min.get((group, name))

    def extra(self, group, name, key, default=None):
        return self.info.get((group, name), {}).get(key, default)


def ms(t):
    return "—" if t is None else f"{t * 1e3:.2f} ms"


def us(t):
    return "—" if t is None else f"{t * 1e6:.2f} µs"


def ratio(a, b, fmt="{:.2f}x"):
    """a / b, or a dash when either is missing."""
    return "—" if a is None or b is None or b <= 0 else fmt.format(a / b)


def table(header, rows):
    lines = ["| " + " | ".join(header) + " |",
             "|" + "|".join("---" if i == 0 else "--:" for i in range(len(header))) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return lines + [""]


def logmel_tables(r):
    out = []
    rows = []
    for wl in ("W1", "W2"):
        g = f"logmel-{wl}"
        lib, ext, fun, floor = (r.get(g, n) for n in
                                ("librosa", "fastmel_extractor", "fastmel_functions", "fft_floor"))
        others = [f"{n} {ms(t)}" for n in ("audioflux", "torchaudio")
                  if (t := r.get(g, n)) is not None]
        if any(t is not None for t in (lib, ext, fun, floor)):
            rows.append([wl, ms(lib), ms(ext), ms(fun), ratio(lib, ext), ms(floor),
                         ratio(ext, floor), "; ".join(others) or "—"])
    if rows:
        out += ["Log-mel, float32 (W1 = 60 s at 16 kHz, n_fft 512, win 400, hop 160, 80 mels, dB; "
                "W2 = 60 s at 22.05 kHz, librosa's defaults, 128 mels, dB):", ""]
        out += table(["workload", "librosa", "fastmel `MelSpectrogram(to_db=True)`",
                      "fastmel functions", "speed-up vs librosa",
                      "FFT floor", "fastmel / floor", "other peers"], rows)
        out += ["The FFT floor is as many single r2c transforms as the workload has frames, on "
                "one buffer hot in L1, with a plan FFTW_MEASUREd on this machine in a process that "
                "never imported fastmel (`benchmarks/floor.py`). A batched transform over stored "
                "frames is not a floor: it streams memory.", ""]
    rows = []
    clips, long = r.get("logmel-W3", "fastmel_clips"), r.get("logmel-W3", "fastmel_long")
    if clips or long:
        rows.append(["W3: W1's 60 s as 1 s clips, one call each, vs one call", ms(clips), ms(long),
                     ratio(clips, long)])
    e64, f64 = (r.get("logmel-W1-float64", n) for n in ("fastmel_extractor", "fastmel_functions"))
    if e64 or f64:
        rows.append(["W1 float64: extractor vs functions", ms(e64), ms(f64), ratio(e64, f64)])
    fst, tst = r.get("stft-W1", "fastmel_stft"), r.get("stft-W1", "torch_stft")
    if fst:
        rows.append(["complex STFT (W1 framing): fastmel vs torch.stft, one thread", ms(fst),
                     ms(tst), ratio(fst, tst)])
    if rows:
        out += table(["comparison", "first", "second", "first / second"], rows)
    return out


def stream_table(r):
    g = "stream-W1"
    off = r.get(g, "fastmel_offline")
    n160 = r.extra(g, "fastmel_offline", "n_chunks")
    rows = []
    fm160 = r.get(g, "fastmel_stream[160]")
    fm160_chunk = fm160 / r.extra(g, "fastmel_stream[160]", "n_chunks", 1) if fm160 else None
    for name, label in (("fastmel_stream", "fastmel stream `process`"),
                        ("fastmel_stream_into", "fastmel stream `process_into`")):
        for chunk in (160, 1600):
            t = r.get(g, f"{name}[{chunk}]")
            if t is not None:
                n = r.extra(g, f"{name}[{chunk}]", "n_chunks", 1)
                rows.append([f"{label}, {chunk} samples", us(t / n), ms(t), ratio(off, t),
                             "—"])
    for feed, label in (("lists", "prebuilt lists"), ("numpy", "array views")):
        t = r.get(g, f"knf_online[{feed}]")
        if t is not None:
            n = r.extra(g, f"knf_online[{feed}]", "n_chunks", 1)
            rows.append([f"kaldi-native-fbank OnlineFbank, 160 samples, {label}", us(t / n),
                         ms(t), "—", ratio(t / n, fm160_chunk, "{:.1f}x")])
    if off is not None:
        rows.insert(0, ["fastmel offline `m(y)`", us(off / n160) if n160 else "—", ms(off),
                        "1.00x", "—"])
    if not rows:
        return []
    return (["Streaming W1 (dB, `top_db=None`), one stream object per run made untimed:", ""]
            + table(["candidate", "per chunk", "60 s", "throughput vs offline",
                     "fastmel 160-sample stream speed-up"], rows))


def simulation_table(r):
    rows = []
    for block in (64, 256, 1024):
        g = f"convolver-{block}"
        fm, pb = r.get(g, "fastmel_convolver"), r.get(g, "pedalboard")
        secs = r.extra(g, "fastmel_convolver", "audio_seconds", 10.0)
        if fm or pb:
            rows.append([f"`Convolver`, 1 s RIR at 48 kHz, block {block}",
                         ratio(secs, fm, "{:.0f}x real time"),
                         "pedalboard " + ratio(secs, pb, "{:.0f}x real time"), ratio(pb, fm)])
    fm, sp = r.get("convolve", "fastmel_convolve"), r.get("convolve", "scipy_fftconvolve")
    if fm or sp:
        rows.append(["`convolve`, 10 s with the 1 s RIR", ms(fm),
                     f"`scipy.signal.fftconvolve` {ms(sp)}", ratio(sp, fm)])
    for g, what in (("bandpass-160", "`Bandpass`, order 4, 160-sample chunks, speech"),
                    ("bandpass-160-silence", "`Bandpass`, 160-sample chunks, 10 s of zeros"),
                    ("bandpass-whole", "`Bandpass`, 10 s as one signal")):
        fm = r.get(g, "fastmel_bandpass")
        for dt in ("float64", "float32"):
            sp = r.get(g, f"scipy_sosfilt[{dt}-sos]")
            if fm or sp:
                per = 1.0 if g == "bandpass-whole" else r.extra(g, "fastmel_bandpass", "n_chunks", 1)
                fmt = ms if g == "bandpass-whole" else us
                rows.append([what, fmt(fm / per) if fm else "—",
                             f"`scipy.signal.sosfilt`, {dt} sos{', carried `zi`' if per != 1 else ''}"
                             f" {fmt(sp / per) if sp else '—'}", ratio(sp, fm)])
    if not rows:
        return []
    return ["Recording simulation, float32:", ""] + table(
        ["workload", "fastmel", "peer", "fastmel speed-up"], rows)


def other_table(r):
    groups = {}
    for (g, n), t in r.min.items():
        if (g, n) not in r.used:
            groups.setdefault(g, []).append((n, t))
    rows = []
    for g in sorted(groups, key=str):
        slowest = max(t for _, t in groups[g])
        for n, t in sorted(groups[g], key=lambda x: x[1]):
            rows.append([str(g), n, ms(t), ratio(slowest, t)])
    if not rows:
        return []
    return ["Other benchmarks (each group's candidates, and how many times faster than the "
            "group's slowest):", ""] + table(["group", "candidate", "time", "vs slowest"], rows)


def render(data, command):
    r = Results(data)
    info = data.get("machine_info", {})
    env = info.get("fastmel", {})
    cpu = env.get("cpu") or info.get("cpu", {}).get("brand_raw") or info.get("processor") or "?"
    when = data.get("datetime", "")[:16].replace("T", " ")
    lines = [f"Measured on {cpu} ({env.get('cpus', '?')} CPUs) on {when} UTC, Python "
             f"{info.get('python_version', '?')}, one thread (pyfftw threads=1, BLAS/OpenMP pools "
             f"at one thread), least time of {env.get('rounds', '?')} rounds, all ratios from that "
             f"one run (load average before it: {env.get('load', '?')}); regenerate with "
             f"`{command}`. A dash is a candidate that did not run: a peer that is not "
             "installed (the run's skip messages say which) or one left out by -k.", ""]
    for part in (logmel_tables, stream_table, simulation_table, other_table):
        lines += part(r)
    return "\n".join(lines).rstrip() + "\n"


def write_readme(text):
    old = README.read_text(encoding="utf-8")
    start, end = old.find(BEGIN), old.find(END)
    if start < 0 or end < start:
        raise SystemExit(f"README.md has no {BEGIN!r} ... {END!r} block to replace")
    README.write_text(old[:start + len(BEGIN)] + "\n" + text + old[end:], encoding="utf-8")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=20, help="timed rounds per candidate (least "
                    "is used; default 20)")
    ap.add_argument("--quick", action="store_true", help="one round each, no warm-up or "
                    "calibration: checks that everything runs, the times mean little")
    ap.add_argument("-k", dest="select", help="pytest -k expression selecting benchmarks")
    ap.add_argument("--json", help="make the tables from this pytest-benchmark JSON instead "
                    "of a new run")
    ap.add_argument("--write-readme", action="store_true",
                    help="replace the measured block of README.md with the tables")
    args = ap.parse_args(argv)
    command = "python -m benchmarks.report" + (" --write-readme" if args.write_readme else "")
    if args.json:
        data = json.loads(pathlib.Path(args.json).read_text(encoding="utf-8"))
        status = 0
    else:
        with tempfile.TemporaryDirectory() as tmp:
            path = pathlib.Path(tmp) / "run.json"
            status = run_suite(1 if args.quick else args.rounds, args.quick, args.select, path)
            if not path.exists():  # nothing ran: all deselected, skipped or failed early
                print(f"no benchmark ran (pytest exit status {status}); its output above says "
                      "why", file=sys.stderr)
                return status
            data = json.loads(path.read_text(encoding="utf-8"))
    text = render(data, command)
    print(text)
    if args.write_readme:
        write_readme(text)
    return status


if __name__ == "__main__":
    sys.exit(main())
