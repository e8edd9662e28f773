"""Integrity flags: things a person should look at. Never a score change.

Three checks, all in the coordinating process, on the student's answer cells (the cells
``notebook.rebuild`` pastes into the release; read-only cells come from the release):

- **Similar pairs** (``similar_pairs``): each submission's answer code becomes a set of
  fingerprints -- Python's ``tokenize`` stream with every name normalized to ``N``,
  numbers to ``0``, strings to ``S``, comments and blank lines dropped (so renaming
  variables or rewording comments changes nothing), k-grams of ``K`` tokens hashed, and
  winnowing (the minimum hash in every window of ``W`` k-grams, Schleimer et al. 2003)
  keeps a position-independent subset. Tokens of the release's own cells (the stubs and
  any given code) are removed first, and an answer below ``MIN_TOKENS`` tokens is not
  compared (short answers are alike by necessity). Similarity of two submissions is the
  Jaccard index of their fingerprint sets. A pair is flagged when its similarity is at least
  ``ABSOLUTE`` (0.9) *and* at least ``SPREAD`` (4) robust standard deviations
  (1.4826 × MAD) above the class median of all pairs -- so a class whose answers are all
  alike (a short exercise) flags only what stands out from it -- except that a similarity of
  ``CEILING`` (0.98) or more (a copy, renamed or not) is always flagged. Each flagged pair
  reports its distance from the median in robust standard deviations. Why this and not
  copydetect: no new dependency, deterministic (no random hashing), and fast (a class of
  50 in well under a second); copydetect does the same winnowing over pygments tokens.
- **Forbidden imports** (``forbidden_imports``): a question may declare
  ``Question(..., forbidden=("sklearn", "torch"))``; any ``import``/``from`` of those
  packages (or ``__import__("...")``/``importlib.import_module("...")`` with a literal)
  in the answer cells of that question is flagged. The answer cells of a question are those
  that define one of its test targets.
- **Hard-coded public answers** (``hard_coded``): an answer cell containing, as a literal,
  the expected value of one of its question's public tests (a number with at least 3
  significant digits, equal to 1e-6 relative, or a string of 4+ characters), where the
  release's cell did not already contain it.
"""

from __future__ import annotations

import ast
import hashlib
import io
import keyword
import re
import statistics
import tokenize

import numpy as np

from coursekit.grading.values import decode

K = 5
W = 4
MIN_TOKENS = 25
ABSOLUTE = 0.9
SPREAD = 4.0
CEILING = 0.98
_SKIP = {tokenize.COMMENT, tokenize.NL, tokenize.ENCODING, tokenize.ENDMARKER}


def tokens(source: str) -> list[str]:
    """The normalized token stream of ``source`` (a cell that does not tokenize: by words)."""
    source = "\n".join(line for line in source.splitlines()
                       if not line.lstrip().startswith(("%", "!")))
    out = []
    try:
        for token in tokenize.generate_tokens(io.StringIO(source + "\n").readline):
            if token.type in _SKIP:
                continue
            if token.type == tokenize.NAME:
                out.append(token.string if keyword.iskeyword(token.string) else "N")
            elif token.type == tokenize.NUMBER:
                out.append("0")
            elif token.type == tokenize.STRING:
                out.append("S")
            elif token.type in (tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT):
                out.append(tokenize.tok_name[token.type][0])
            else:
                out.append(token.string)
    except (tokenize.TokenError, IndentationError, SyntaxError):
        out = [word if keyword.iskeyword(word) else "0" if word[0].isdigit() else "N"
               if re.match(r"\w", word) else word for word in re.findall(r"\w+|\S", source)]
    return out


def _hash(gram: tuple) -> int:
    return int.from_bytes(hashlib.blake2b(" ".join(gram).encode(), digest_size=8).digest(),
                          "big")


def fingerprints(token_list: list[str], exclude: set[int] = frozenset()) -> set[int]:
    """Winnowed k-gram hashes of a token list, minus the hashes in ``exclude``."""
    hashes = [_hash(tuple(token_list[i:i + K])) for i in range(len(token_list) - K + 1)]
    hashes = [h for h in hashes if h not in exclude]
    if len(hashes) <= W:
        return set(hashes)
    return {min(hashes[i:i + W]) for i in range(len(hashes) - W + 1)}


def _all_grams(source: str) -> set[int]:
    toks = tokens(source)
    return {_hash(tuple(toks[i:i + K])) for i in range(len(toks) - K + 1)}


def similar_pairs(answers: dict[str, dict[str, str]], release: dict) -> dict:
    """Compare every pair of submissions' answer code.

    ``answers``: ``{student: {answer cell id: source}}``; ``release``: the release notebook.
    Returns ``{"pairs": [(a, b, similarity), ...] best first, "flagged": [...],
    "median", "robust_sd", "threshold", "compared", "too_short": [students]}``.
    """
    release_grams = set()
    for cell in release["cells"]:
        if cell["cell_type"] == "code":
            release_grams |= _all_grams(cell["source"])
    prints, too_short = {}, []
    for student, cells in sorted(answers.items()):
        toks = []
        for cell_id in sorted(cells):
            toks += tokens(cells[cell_id]) + ["|"]
        if sum(t not in ("N", "|") for t in toks) < MIN_TOKENS or len(toks) < MIN_TOKENS:
            too_short.append(student)
            continue
        found = fingerprints(toks, release_grams)
        if len(found) < 3:
            too_short.append(student)
            continue
        prints[student] = found
    names = sorted(prints)
    pairs = []
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            union = len(prints[a] | prints[b])
            pairs.append((a, b, round(len(prints[a] & prints[b]) / union, 4) if union else 0.0))
    pairs.sort(key=lambda p: (-p[2], p[0], p[1]))
    values = [p[2] for p in pairs]
    median = statistics.median(values) if values else 0.0
    mad = statistics.median([abs(v - median) for v in values]) if values else 0.0
    robust_sd = 1.4826 * mad
    threshold = max(ABSOLUTE, min(CEILING, median + SPREAD * robust_sd))
    flagged = [p for p in pairs if p[2] >= threshold]
    return {"pairs": pairs, "flagged": flagged, "median": median, "robust_sd": robust_sd,
            "threshold": threshold, "compared": len(names), "too_short": too_short}


def groups(flagged: list[tuple[str, str, float]]) -> list[tuple[list[str], float, float]]:
    """Flagged pairs joined into groups (connected components): ``(members, min, max)``,
    largest group first -- nine students handing in the same code are one finding."""
    parent: dict[str, str] = {}

    def root(name):
        while parent.setdefault(name, name) != name:
            name = parent[name]
        return name

    for a, b, _ in flagged:
        parent[root(a)] = root(b)
    found: dict[str, list] = {}
    for a, b, sim in flagged:
        found.setdefault(root(a), []).append((a, b, sim))
    result = []
    for pairs in found.values():
        members = sorted({n for a, b, _ in pairs for n in (a, b)})
        sims = [sim for _, _, sim in pairs]
        result.append((members, min(sims), max(sims)))
    return sorted(result, key=lambda g: (-len(g[0]), g[0]))


def _defined(source: str) -> set[str]:
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return {a or b for a, b in re.findall(r"^(?:def|class)\s+(\w+)|^(\w+)\s*=",
                                              source, re.M)}
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                for sub in ast.walk(target):
                    if isinstance(sub, ast.Name):
                        names.add(sub.id)
    return names


def question_cells(questions: list[dict], answers: dict[str, str]) -> dict[str, list[str]]:
    """``{question id: [answer cell ids]}``: the cells that define one of its test targets."""
    defined = {cell_id: _defined(source) for cell_id, source in answers.items()}
    result = {}
    for question in questions:
        targets = {t["target"].split(".")[0] for t in question["tests"]}
        result[question["id"]] = sorted(c for c, names in defined.items() if names & targets)
    return result


def imported_modules(source: str) -> list[tuple[int, str]]:
    """``(line, top-level module)`` for every import in ``source`` (AST; literals for
    ``__import__``/``importlib.import_module``)."""
    try:
        tree = ast.parse("\n".join(line if not line.lstrip().startswith(("%", "!")) else ""
                                   for line in source.splitlines()))
    except SyntaxError:
        return [(0, m) for m in re.findall(r"^\s*(?:import|from)\s+(\w+)", source, re.M)]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name.split(".")[0]) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.append((node.lineno, node.module.split(".")[0]))
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant) \
                and isinstance(node.args[0].value, str):
            func = node.func
            name = func.id if isinstance(func, ast.Name) else (
                func.attr if isinstance(func, ast.Attribute) else "")
            if name in ("__import__", "import_module"):
                found.append((node.lineno, node.args[0].value.split(".")[0]))
    return found


def forbidden_imports(questions: list[dict], answers: dict[str, str]) -> list[dict]:
    flags = []
    cells = question_cells(questions, answers)
    for question in questions:
        banned = set(question.get("forbidden") or ())
        if not banned:
            continue
        for cell_id in cells.get(question["id"], []):
            for line, module in imported_modules(answers[cell_id]):
                if module in banned:
                    flags.append({"kind": "forbidden-import", "question": question["id"],
                                  "detail": f"{cell_id} line {line}: imports {module}, "
                                            f"forbidden in {question['id']}"})
    return flags


def _literals(source: str) -> list[tuple[int, object]]:
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float, str)) \
                and not isinstance(node.value, bool):
            found.append((node.lineno, node.value))
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) and \
                isinstance(node.operand, ast.Constant) and \
                isinstance(node.operand.value, (int, float)):
            found.append((node.lineno, -node.operand.value))
    return found


def _significant(value: float) -> bool:
    text = f"{abs(value):.12g}".replace(".", "").lstrip("0").split("e")[0].rstrip("0")
    return len(text) >= 3


def _expected_atoms(expected) -> list:
    value = decode(expected)
    if isinstance(value, str):
        return [value] if len(value) >= 4 else []
    try:
        array = np.asarray(value, dtype=float).ravel()
    except (TypeError, ValueError):
        return []
    return [float(v) for v in array[:50] if np.isfinite(v) and _significant(float(v))]


def hard_coded(questions: list[dict], answers: dict[str, str], release: dict) -> list[dict]:
    flags = []
    release_sources = {c["metadata"]["coursekit"]["id"]: c["source"] for c in release["cells"]}
    cells = question_cells(questions, answers)
    for question in questions:
        atoms = []
        for test in question["tests"]:
            if test["visibility"] == "public" and test.get("expected") is not None \
                    and test["kind"] in ("call", "value"):
                atoms += [(test["label"], a) for a in _expected_atoms(test["expected"])]
        if not atoms:
            continue
        for cell_id in cells.get(question["id"], []):
            given = {v for _, v in _literals(release_sources.get(cell_id, ""))}
            for line, literal in _literals(answers[cell_id]):
                if literal in given:
                    continue
                for label, atom in atoms:
                    same = (literal == atom) if isinstance(atom, str) else (
                        isinstance(literal, (int, float)) and not isinstance(literal, str)
                        and _significant(float(literal))
                        and abs(float(literal) - atom) <= 1e-6 * max(abs(atom), 1e-12))
                    if same:
                        flags.append({"kind": "hard-coded", "question": question["id"],
                                      "detail": f"{cell_id} line {line}: the literal "
                                                f"{literal!r:.40} is the expected value of "
                                                f"the public test {label}"})
                        break
    return flags


def submission_flags(questions: list[dict], answers: dict[str, str], release: dict) -> list[dict]:
    """Per-submission flags: forbidden imports and hard-coded public answers."""
    return forbidden_imports(questions, answers) + hard_coded(questions, answers, release)
