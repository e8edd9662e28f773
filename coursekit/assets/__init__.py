"""Results tables and small weights that committed scripts in ``experiments/`` produce.

Work that does not fit a notebook's minute (a sweep over seeds, a model too slow to train
live) runs in a script, ``experiments/<chapter>_<topic>.py``, that writes its result here;
the notebook loads it, plots it and says how it was made:

    from coursekit.assets import load_results, load_weights
    table = load_results("05_architectures")      # coursekit/assets/05_architectures.json
    weights = load_weights("08_vae_digits")         # coursekit/assets/08_vae_digits.npz

A results file is JSON ``{"script", "command", "seeds", "created", "log", "results"}``;
weights are a NumPy ``.npz`` of named arrays (never a pickle), at most 1 MB a file.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import tempfile
from pathlib import Path

import numpy as np

ASSETS = Path(__file__).resolve().parent
MAX_WEIGHTS_BYTES = 1_000_000


def _path(name: str, suffix: str, folder=None) -> Path:
    if not isinstance(name, str) or not name or "/" in name or name.startswith("."):
        raise ValueError(f"asset name must be a plain file name like '05_architectures', "
                         f"got {name!r}")
    return Path(folder or ASSETS) / f"{name}{suffix}"


def _atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; assets are ordinary readable files
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def available(folder=None) -> list[str]:
    """Names of the stored results and weights."""
    return sorted({p.stem for p in Path(folder or ASSETS).glob("*") if p.suffix in (".json", ".npz")})


def load_results(name: str, folder=None) -> dict:
    """The results file ``name`` as a dict (its ``"results"`` key holds the table)."""
    path = _path(name, ".json", folder)
    if not path.is_file():
        raise FileNotFoundError(
            f"no results named {name!r} in {path.parent}; stored: {', '.join(available(folder))}. "
            f"Make it with the script in experiments/ that names it.")
    return json.loads(path.read_text(encoding="utf-8"))


def save_results(name: str, results, *, script: str, command: str, seeds, log=(),
                 folder=None) -> Path:
    """Write ``results`` (plain JSON values) with how they were made; return the path."""
    record = {"script": script, "command": command, "seeds": list(seeds),
              "created": _dt.date.today().isoformat(), "log": list(log), "results": results}
    path = _path(name, ".json", folder)
    _atomic_write(path, (json.dumps(record, indent=1, sort_keys=False) + "\n").encode("utf-8"))
    return path


def load_weights(name: str, folder=None) -> dict[str, np.ndarray]:
    """The arrays of ``name.npz`` as a dict (loaded without pickle)."""
    path = _path(name, ".npz", folder)
    if not path.is_file():
        raise FileNotFoundError(
            f"no weights named {name!r} in {path.parent}; stored: {', '.join(available(folder))}")
    with np.load(path, allow_pickle=False) as archive:
        return {key: archive[key] for key in archive.files}


def save_weights(name: str, arrays: dict, folder=None) -> Path:
    """Write named arrays to ``name.npz`` (compressed); refuse files over 1 MB."""
    import io

    buffer = io.BytesIO()
    np.savez_compressed(buffer, **{k: np.asarray(v) for k, v in arrays.items()})
    data = buffer.getvalue()
    if len(data) > MAX_WEIGHTS_BYTES:
        raise ValueError(f"weights {name!r} take {len(data) / 1e6:.2f} MB; the limit is 1 MB a "
                         f"file: use a smaller model or store fewer arrays")
    path = _path(name, ".npz", folder)
    _atomic_write(path, data)
    return path
