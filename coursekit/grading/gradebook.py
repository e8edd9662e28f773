"""The gradebook: one SQLite database per output folder, the record of every grading.

``OUT/gradebook.sqlite`` (file mode 0600) is the record; every other file in ``OUT`` is
derived from it after each run (``exports``). While a run is open, ``OUT/.gradebook.lock``
is held with ``fcntl.flock``: a second ``coursekit grade`` on the same folder stops at once
(``GradebookLocked``, exit status 2).

Nothing is overwritten or deleted: the tables are append-only (SQLite triggers refuse
``UPDATE`` and ``DELETE``; only a run's ``finished`` time is filled in once). Each run adds

- ``runs``: id, start and end time (UTC), coursekit version, SHA-256 of the bundle, options;
- ``gradings``: one row per submission graded (or re-scored) in that run: the student's name
  as submitted (Unicode, NFC), the folder its feedback went to (a sanitized name), the file,
  its SHA-256, the grading fingerprint (file + bundle + limits + coursekit version), the
  submission time (UTC), lateness, penalty, raw and final score, the error if any, the whole
  record (JSON) and the answer cells' code (for the integrity checks);
- ``test_results``: the long per-test table (one row per test of each grading);
- ``flags``: integrity flags and notes (never a score change);
- ``rejected``: files in the submissions folder that are not notebooks;
- ``overrides``: instructor overrides and manually graded scores, each with a reason.

**Versions and the counting policy.** A resubmission (a file with another SHA-256) is a
new version; an older version stays in the gradebook. Which version counts is decided when
the exports are derived, by the policy:

- ``latest-on-time`` (default): the latest version submitted on time (within the grace
  period); if there is none, the latest version, with its late penalty;
- ``latest``: the latest version, late or not (with its penalty).

Versions are ordered by submission time (``timestamps.csv`` or the files' times), and by
grading order when no time is known. Regrading the same file (``--force``, a new bundle)
adds a grading of the same version; the newest grading of a version is the one used.
An override (``student,question,score,reason``) replaces the points of that question in the
counted version (the latest override of a question wins; all are kept); the late penalty
applies to the total after overrides.
"""

from __future__ import annotations

import fcntl
import json
import os
import sqlite3
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

SCHEMA_VERSION = 1
DATABASE = "gradebook.sqlite"
LOCK_FILE = ".gradebook.lock"
POLICIES = ("latest-on-time", "latest")

_TABLES = {
    "runs": "id INTEGER PRIMARY KEY, started TEXT NOT NULL, finished TEXT, "
            "coursekit_version TEXT, bundle_sha256 TEXT, options TEXT",
    "gradings": "id INTEGER PRIMARY KEY, run_id INTEGER NOT NULL REFERENCES runs(id), "
                "student TEXT NOT NULL, folder TEXT NOT NULL, file TEXT, sha256 TEXT, "
                "fingerprint TEXT, submitted_at TEXT, late INTEGER NOT NULL DEFAULT 0, "
                "late_seconds REAL, penalty REAL NOT NULL DEFAULT 0, raw_score REAL, "
                "score REAL, max_score REAL, error TEXT, record TEXT NOT NULL, "
                "answers TEXT, graded_at TEXT NOT NULL, reused_from INTEGER",
    "test_results": "grading_id INTEGER NOT NULL REFERENCES gradings(id), question TEXT, "
                    "test TEXT, label TEXT, visibility TEXT, points REAL, max_points REAL, "
                    "status TEXT, message TEXT",
    "flags": "id INTEGER PRIMARY KEY, run_id INTEGER NOT NULL, grading_id INTEGER, "
             "student TEXT, kind TEXT NOT NULL, question TEXT, detail TEXT NOT NULL",
    "rejected": "id INTEGER PRIMARY KEY, run_id INTEGER NOT NULL, file TEXT NOT NULL, "
                "reason TEXT NOT NULL",
    "overrides": "id INTEGER PRIMARY KEY, run_id INTEGER, created TEXT NOT NULL, "
                 "student TEXT NOT NULL, question TEXT NOT NULL, score REAL NOT NULL, "
                 "reason TEXT NOT NULL, source TEXT NOT NULL",
}


class GradebookLocked(ValueError):
    """Another ``coursekit grade`` holds the gradebook of this folder."""


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def nfc(name: str) -> str:
    return unicodedata.normalize("NFC", name)


@dataclass
class Counted:
    """The version of one student that counts, with overrides applied."""

    student: str
    grading: dict  # the row of ``gradings`` (record decoded)
    record: dict  # the record with overrides and the penalty applied
    versions: int  # how many versions (distinct files) the student has


class Gradebook:
    """The open gradebook of an output folder (a context manager holding the lock)."""

    def __init__(self, out: Path, assignment: str):
        self.out = Path(out)
        self.out.mkdir(parents=True, exist_ok=True)
        self._lock = open(self.out / LOCK_FILE, "a")
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            self._lock.close()
            raise GradebookLocked(f"another coursekit grade is running on {self.out} "
                                  "(its gradebook is locked); wait for it to finish") from None
        path = self.out / DATABASE
        fresh = not path.exists()
        if fresh:  # create it 0600 before SQLite writes anything into it
            os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
        os.chmod(path, 0o600)
        self.db = sqlite3.connect(path, isolation_level=None)
        self.db.row_factory = sqlite3.Row
        self.db.execute("PRAGMA journal_mode=DELETE")
        self._create(assignment)

    # ------------------------------------------------------------------ schema
    def _create(self, assignment: str) -> None:
        with self.db:
            self.db.execute("BEGIN IMMEDIATE")
            self.db.execute("CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT)")
            meta = dict(self.db.execute("SELECT key, value FROM meta").fetchall())
            if meta and int(meta.get("schema_version", 0)) != SCHEMA_VERSION:
                raise ValueError(f"{self.out / DATABASE} has schema version "
                                 f"{meta.get('schema_version')}; this coursekit reads "
                                 f"version {SCHEMA_VERSION}")
            if meta and meta.get("assignment") != assignment:
                raise ValueError(f"the gradebook in {self.out} is for "
                                 f"{meta.get('assignment')!r}, not {assignment!r}: use "
                                 "another --out folder")
            for table, columns in _TABLES.items():
                self.db.execute(f"CREATE TABLE IF NOT EXISTS {table}({columns})")
                for action in ("UPDATE", "DELETE"):
                    if table == "runs" and action == "UPDATE":
                        continue
                    self.db.execute(
                        f"CREATE TRIGGER IF NOT EXISTS {table}_no_{action.lower()} BEFORE "
                        f"{action} ON {table} BEGIN SELECT RAISE(ABORT, 'the gradebook is "
                        f"append-only'); END")
            self.db.execute(
                "CREATE TRIGGER IF NOT EXISTS runs_finish_once BEFORE UPDATE ON runs "
                "WHEN OLD.finished IS NOT NULL OR NEW.started IS NOT OLD.started "
                "BEGIN SELECT RAISE(ABORT, 'the gradebook is append-only'); END")
            self.db.execute("CREATE INDEX IF NOT EXISTS gradings_student ON "
                            "gradings(student, fingerprint)")
            if not meta:
                self.db.executemany("INSERT INTO meta VALUES (?, ?)",
                                    [("schema_version", str(SCHEMA_VERSION)),
                                     ("assignment", assignment), ("created", now())])

    def close(self) -> None:
        self.db.close()
        fcntl.flock(self._lock, fcntl.LOCK_UN)
        self._lock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # ------------------------------------------------------------------- writes
    def start_run(self, bundle_sha256: str, options: dict) -> int:
        import coursekit

        cursor = self.db.execute(
            "INSERT INTO runs(started, coursekit_version, bundle_sha256, options) "
            "VALUES (?, ?, ?, ?)", (now(), coursekit.__version__, bundle_sha256,
                                    json.dumps(options, sort_keys=True, default=str)))
        return cursor.lastrowid

    def finish_run(self, run_id: int) -> None:
        self.db.execute("UPDATE runs SET finished = ? WHERE id = ?", (now(), run_id))

    def add_grading(self, run_id: int, record: dict, *, sha256: str, answers: dict | None,
                    reused_from: int | None = None) -> int:
        """Append one grading (``record`` as ``grade`` builds it) and its test rows."""
        with self.db:
            self.db.execute("BEGIN IMMEDIATE")
            cursor = self.db.execute(
                "INSERT INTO gradings(run_id, student, folder, file, sha256, fingerprint, "
                "submitted_at, late, late_seconds, penalty, raw_score, score, max_score, "
                "error, record, answers, graded_at, reused_from) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (run_id, record["student"], record["submission"], record["file"], sha256,
                 record.get("fingerprint"), record.get("submitted_at"),
                 int(bool(record.get("late"))), record.get("late_seconds"),
                 float(record.get("penalty") or 0.0), record.get("raw_score"), record["score"],
                 record["max_score"], record.get("error"),
                 json.dumps(record, sort_keys=True, allow_nan=False),
                 json.dumps(answers or {}, sort_keys=True), now(), reused_from))
            grading_id = cursor.lastrowid
            self.db.executemany(
                "INSERT INTO test_results VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(grading_id, q["id"], t["key"], t["label"], t["visibility"], t["points"],
                  t["max_points"], t["status"], t["message"])
                 for q in record["questions"] for t in q["tests"]])
            self.db.executemany(
                "INSERT INTO flags(run_id, grading_id, student, kind, question, detail) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [(run_id, grading_id, record["student"], f["kind"], f.get("question"),
                  f["detail"]) for f in record.get("flags", [])])
        return grading_id

    def add_flags(self, run_id: int, flags: list[dict]) -> None:
        """Class-level flags of a run (similar pairs): ``{"kind", "student", "detail", ...}``."""
        with self.db:
            self.db.execute("BEGIN IMMEDIATE")
            self.db.executemany(
                "INSERT INTO flags(run_id, grading_id, student, kind, question, detail) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [(run_id, f.get("grading_id"), f.get("student"), f["kind"], f.get("question"),
                  f["detail"]) for f in flags])

    def add_rejected(self, run_id: int, rejected: list[tuple[str, str]]) -> None:
        with self.db:
            self.db.execute("BEGIN IMMEDIATE")
            self.db.executemany("INSERT INTO rejected(run_id, file, reason) VALUES (?, ?, ?)",
                                [(run_id, str(f), reason) for f, reason in rejected])

    def add_override(self, run_id: int | None, student: str, question: str, score: float,
                     reason: str, source: str = "override") -> None:
        if not str(reason).strip():
            raise ValueError(f"an override of {student} {question} needs a reason")
        self.db.execute("INSERT INTO overrides(run_id, created, student, question, score, "
                        "reason, source) VALUES (?, ?, ?, ?, ?, ?, ?)",
                        (run_id, now(), nfc(student), question, float(score), reason, source))

    # -------------------------------------------------------------------- reads
    def find(self, student: str, fingerprint: str) -> dict | None:
        """The latest grading of ``student`` with this fingerprint (for skipping), or None
        when there is none or the latest one is a grader fault (which must be graded again,
        even if an earlier run of the same file succeeded)."""
        row = self.db.execute("SELECT * FROM gradings WHERE student = ? AND fingerprint = ? "
                              "ORDER BY id DESC LIMIT 1", (student, fingerprint)).fetchone()
        if row is None or (row["error"] or "").startswith("grader error"):
            return None
        return _decoded(row)

    def students(self) -> list[str]:
        return [r[0] for r in self.db.execute("SELECT DISTINCT student FROM gradings "
                                              "ORDER BY student")]

    def last_run(self) -> int | None:
        row = self.db.execute("SELECT max(id) FROM runs").fetchone()
        return row[0]

    def rows(self, sql: str, args=()) -> list[dict]:
        return [dict(r) for r in self.db.execute(sql, args)]

    def counted(self, policy: str = "latest-on-time") -> list[Counted]:
        """The counted version of every student (see the module docstring)."""
        if policy not in POLICIES:
            raise ValueError(f"policy must be one of {', '.join(POLICIES)}, got {policy!r}")
        overrides: dict[tuple[str, str], dict] = {}
        for row in self.rows("SELECT * FROM overrides ORDER BY id"):
            overrides[(row["student"], row["question"])] = row
        result = []
        for student in self.students():
            gradings = [_decoded(r) for r in self.db.execute(
                "SELECT * FROM gradings WHERE student = ? ORDER BY id", (student,))]
            latest_of_version: dict[str, dict] = {}
            order: dict[str, int] = {}
            for g in gradings:  # the newest grading of each version (file hash)
                latest_of_version[g["sha256"]] = g
                order.setdefault(g["sha256"], g["id"])
            versions = sorted(latest_of_version.values(),
                              key=lambda g: (g["submitted_at"] or "", order[g["sha256"]]))
            on_time = [g for g in versions if not g["late"]]
            chosen = (on_time or versions)[-1] if policy == "latest-on-time" else versions[-1]
            record = apply_overrides(chosen["record"], overrides, student)
            result.append(Counted(student, chosen, record, len(versions)))
        return result


def _decoded(row) -> dict:
    data = dict(row)
    data["record"] = json.loads(data["record"])
    data["answers"] = json.loads(data["answers"] or "{}")
    return data


def apply_overrides(record: dict, overrides: dict, student: str) -> dict:
    """``record`` with overridden question points, the total and the penalty recomputed."""
    record = json.loads(json.dumps(record))
    applied = []
    for question in record["questions"]:
        override = overrides.get((student, question["id"]))
        if override is not None:
            applied.append({"question": question["id"], "from": question["points"],
                            "to": override["score"], "reason": override["reason"],
                            "source": override["source"]})
            question["points"] = override["score"]
            question["status"] = "overridden" if override["source"] == "override" else "manual"
    record["overrides"] = applied
    raw = round(sum(q["points"] for q in record["questions"]), 6)
    record["raw_score"] = raw
    record["score"] = round(raw * (1 - float(record.get("penalty") or 0.0)), 6)
    return record
