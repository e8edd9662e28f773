"""Where the benchmarks keep what they measured: ``benchmarks/results/<name>.json``.

Each file is a table, ``{"title", "columns", "rows", "notes", "measured"}``, committed so
the website's benchmarks page (book/benchmarks.md, filled in at build time) and the course
guide show the last measurement and where it was made.

    from results_table import save_table
    save_table("notebooks", "Notebook run times", ["notebook", "seconds"], rows, notes="...")
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import platform
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def machine() -> str:
    """The CPU model and core count, as the results say where they were measured."""
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{model}, {os.cpu_count()} cores"


def save_table(name: str, title: str, columns: list[str], rows: list[list], notes: str = "",
               folder: Path | None = None) -> Path:
    """Write one results table (atomically) and return its path."""
    folder = Path(folder or RESULTS)
    folder.mkdir(parents=True, exist_ok=True)
    record = {"title": title, "columns": list(columns),
              "rows": [[round(v, 4) if isinstance(v, float) else v for v in row] for row in rows],
              "notes": notes, "measured": {"date": _dt.date.today().isoformat(),
                                           "machine": machine()}}
    path = folder / f"{name}.json"
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(record, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    tmp.replace(path)
    return path
