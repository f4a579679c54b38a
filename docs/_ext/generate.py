"""Made at build time: the pictures, the command's help and the top-level name table.

A Sphinx extension (``generate`` in conf.py) that writes into ``docs/_generated``
when the builder starts, so the pages show what the installed fastmel computes
from the bundled example audio and what its command prints.
"""
import importlib
import os
import re
import subprocess
import sys
from importlib import resources
from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parent.parent / "_generated"
SUBCOMMANDS = ("features", "augment", "demo", "show", "bench")
# The modules whose __all__ the API reference documents (docs/api/*.rst).
PUBLIC_MODULES = ("spectrum", "feature", "extractors", "convert", "filters", "cepstral",
                  "deltas", "pcen", "frontends", "convolution", "noise", "iir", "design",
                  "chain", "plans", "util", "exceptions")


def _clip(name="speech_16000.flac"):
    import soundfile as sf

    with resources.as_file(resources.files("fastmel") / "data" / name) as path:
        y, sr = sf.read(str(path), dtype="float32", always_2d=True)
    return np.ascontiguousarray(y.mean(axis=1, dtype=np.float32)), int(sr)


def _figure(*args, **kwargs):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt.subplots(*args, **kwargs)


def _save(fig, name):
    fig.savefig(OUT / name, dpi=100)
    import matplotlib.pyplot as plt

    plt.close(fig)


def _show_logmel(ax, S_db, sr, hop, vmin, vmax):
    import matplotlib

    t = S_db.shape[-1] * hop / sr
    # Past the end of a shorter signal is silence: the colour of the floor, not blank.
    ax.set_facecolor(matplotlib.colormaps["magma"](0.0))
    return ax.imshow(S_db, origin="lower", aspect="auto", cmap="magma", vmin=vmin, vmax=vmax,
                     extent=(0.0, t, 0, S_db.shape[0]), interpolation="nearest")


def logmel_figure():
    import fastmel

    y, sr = _clip()
    hop = 160
    logmel = fastmel.MelSpectrogram(sr=sr, n_fft=512, win_length=400, hop_length=hop,
                                    n_mels=80, to_db=True, top_db=80.0)
    S_db = logmel(y)
    fig, ax = _figure(figsize=(8, 3.2), layout="constrained")
    im = _show_logmel(ax, S_db, sr, hop, S_db.max() - 80.0, S_db.max())
    ax.set(xlabel="time (s)", ylabel="mel band",
           title="fastmel.MelSpectrogram(sr=16000, n_fft=512, win_length=400, "
                 "hop_length=160, n_mels=80, to_db=True, top_db=80)")
    ax.title.set_fontsize(9)
    fig.colorbar(im, ax=ax, label="dB")
    _save(fig, "logmel.png")


def _room():
    from fastmel.cli.demo import RT60, synthetic_rir

    return synthetic_rir(16000), RT60


def rir_figure():
    h, rt60 = _room()
    sr = 16000
    t = np.arange(h.size) / sr
    fig, (ax1, ax2) = _figure(1, 2, figsize=(8, 2.8), layout="constrained")
    ax1.plot(t, h, lw=0.5)
    ax1.set(xlabel="time (s)", ylabel="amplitude", title="impulse response")
    # Energy left in the tail (Schroeder's backward integral), in dB.
    tail = np.cumsum((h.astype(np.float64) ** 2)[::-1])[::-1]
    ax2.plot(t, 10.0 * np.log10(tail / tail[0]))
    ax2.axhline(-60.0, color="grey", lw=0.8, ls="--")
    ax2.axvline(rt60, color="grey", lw=0.8, ls="--")
    ax2.set(xlabel="time (s)", ylabel="energy left (dB)", ylim=(-80, 3),
            title=f"decay: -60 dB at RT60 = {rt60:g} s")
    _save(fig, "rir.png")


def chain_figure():
    import fastmel
    from fastmel.cli.demo import BAND_HZ, BAND_ORDER, SNR_DB, pink_noise

    y, sr = _clip()
    rir, rt60 = _room()
    hop = 160
    logmel = fastmel.MelSpectrogram(sr=sr, n_fft=512, win_length=400, hop_length=hop,
                                    n_mels=80, to_db=True)
    wet = fastmel.Convolver(rir, block_size=hop)(y)
    noisy = fastmel.add_noise(wet, pink_noise(wet.shape[-1], sr), snr_db=SNR_DB, rng=0)
    mic = fastmel.Bandpass(sr, *BAND_HZ, order=BAND_ORDER)(noisy)
    stages = [("clean", y), (f"+ room (RT60 {rt60:g} s)", wet),
              (f"+ pink noise ({SNR_DB:g} dB SNR)", noisy),
              (f"+ microphone band-pass {BAND_HZ[0]:g}-{BAND_HZ[1]:g} Hz", mic)]
    mels = [logmel(x) for _, x in stages]
    top = max(float(S.max()) for S in mels)
    fig, axes = _figure(len(stages), 1, figsize=(8, 7), sharex=True, layout="constrained")
    for ax, (label, _), S in zip(axes, stages, mels):
        im = _show_logmel(ax, S, sr, hop, top - 80.0, top)
        ax.set_ylabel("mel band")
        ax.set_title(label, fontsize=9, loc="left")
    axes[-1].set_xlabel("time (s)")
    axes[0].set_xlim(0.0, max(S.shape[-1] for S in mels) * hop / sr)
    fig.colorbar(im, ax=list(axes), label="dB (one scale)")
    _save(fig, "chain.png")


def command_help():
    env = dict(os.environ, COLUMNS="88")
    for name in ("",) + SUBCOMMANDS:
        argv = [sys.executable, "-m", "fastmel"] + ([name] if name else []) + ["--help"]
        out = subprocess.run(argv, env=env, capture_output=True, text=True, check=True).stdout
        (OUT / f"help-{name or 'fastmel'}.txt").write_text(out)


def _canonical(name):
    obj = getattr(importlib.import_module("fastmel"), name)
    for module in PUBLIC_MODULES:
        mod = importlib.import_module(f"fastmel.{module}")
        if name in getattr(mod, "__all__", ()) and getattr(mod, name) is obj:
            return f"fastmel.{module}.{name}"
    return None


def toplevel_table():
    import fastmel

    rows = []
    for name in fastmel.__all__:
        obj = getattr(fastmel, name)
        if name == "__version__" or type(obj).__name__ == "module":
            continue
        where = _canonical(name)
        rows.append((f"``fastmel.{name}``", f":py:obj:`{where}`" if where else
                     f":py:obj:`fastmel.{name}` (below)"))
    width = max(len(a) for a, _ in rows), max(len(b) for _, b in rows)
    rule = "=" * width[0] + " " + "=" * width[1]
    lines = [rule, "top-level name".ljust(width[0]) + " documented as", rule]
    lines += [a.ljust(width[0]) + " " + b for a, b in rows]
    lines.append(rule)
    (OUT / "toplevel.rst").write_text("\n".join(lines) + "\n")


def resolve_toplevel(app, env, node, contnode):
    """Resolve ``fastmel.X`` to the page of the module that defines X.

    The docstrings and guides name the top-level spellings users write
    (``fastmel.MelSpectrogram``); the reference documents each object once,
    under its module.
    """
    target = node.get("reftarget", "")
    if node.get("refdomain") != "py" or not target.startswith("fastmel."):
        return None
    name = target[len("fastmel."):]
    import fastmel

    if name not in fastmel.__all__:
        return None
    where = _canonical(name)
    if where is None:
        return None
    domain = env.domains["py"]
    return domain.resolve_xref(env, node["refdoc"], app.builder, node["reftype"], where,
                               node, contnode)


MIGRATING = "## Names side by side (migrating)"


def _rst_inline(text):
    # Markdown's `code` is reST's ``code``; the README's tables use nothing else.
    return re.sub(r"`([^`]+)`", r"``\1``", text.strip())


def migrating_table():
    """README's migration tables (one source) as reST list-tables."""
    readme = (OUT.parent.parent / "README.md").read_text(encoding="utf-8")
    start = readme.find(MIGRATING + "\n")
    if start < 0:
        raise RuntimeError(f"docs: README.md has no section {MIGRATING!r} (docs/migrating.rst)")
    body = readme[start + len(MIGRATING):].split("\n## ", 1)[0]
    out, table = [], []

    def close_table():
        if table:
            header, rows = table[0], table[2:]  # table[1] is the |---| rule
            out.extend(["", ".. list-table::", "   :header-rows: 1", ""])
            for row in [header] + rows:
                cells = [_rst_inline(c) for c in row.strip().strip("|").split("|")]
                out.append("   * - " + (cells[0] or "\\"))
                out.extend("     - " + (c or "\\") for c in cells[1:])
            out.append("")
            table.clear()

    for line in body.strip().splitlines():
        if line.startswith("|"):
            table.append(line)
        else:
            close_table()
            out.append(_rst_inline(line) if line.strip() else "")
    close_table()
    (OUT / "migrating.rst").write_text("\n".join(out) + "\n", encoding="utf-8")


def check_modules():
    """Fail the build when a public module has no API page (or a page no module)."""
    import pkgutil

    import fastmel

    # Every module of the package but the private ``_`` ones and the command's.
    public = {info.name for info in pkgutil.iter_modules(fastmel.__path__)
              if not info.name.startswith("_") and info.name != "cli"}
    pages = {path.stem for path in (OUT.parent / "api").glob("*.rst")} - {"index"}
    if public != set(PUBLIC_MODULES) or pages != set(PUBLIC_MODULES):
        raise RuntimeError(
            f"docs: the public modules {sorted(public)}, docs/_ext/generate.py's "
            f"PUBLIC_MODULES {sorted(PUBLIC_MODULES)} and the pages docs/api/*.rst "
            f"{sorted(pages)} must agree")


def drop_type_docstring(app, what, name, obj, options, lines):
    """Show no docstring for a constant rather than its type's.

    autodoc falls back to ``type(value).__doc__`` for a module constant with no
    ``#:`` comment of its own (``fastmel.plans.PLAN_FORMAT`` would read "int([x])
    -> integer ..."); such constants are described in the page's directive."""
    import inspect

    own = type(obj).__doc__
    if what == "data" and isinstance(own, str) and lines \
            and "\n".join(lines).strip() == inspect.cleandoc(own).strip():
        lines[:] = []


def generate(app):
    check_modules()
    OUT.mkdir(exist_ok=True)
    toplevel_table()
    migrating_table()
    command_help()
    logmel_figure()
    rir_figure()
    chain_figure()


def setup(app):
    app.connect("builder-inited", generate)
    app.connect("missing-reference", resolve_toplevel)
    # before numpydoc's handler (priority 500), which renders and validates the lines
    app.connect("autodoc-process-docstring", drop_type_docstring, priority=400)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
