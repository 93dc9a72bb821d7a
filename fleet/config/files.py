"""clusters.yaml as text: round-trip YAML (comments, order, line numbers) and atomic writes."""
from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError

from fleet.config.types import ConfigError, ConfigProblem


def round_trip_yaml() -> YAML:
    yaml = YAML()  # round-trip: keeps comments, order and line numbers
    yaml.preserve_quotes = True
    yaml.indent(mapping=2, sequence=4, offset=2)
    return yaml


def parse_yaml(text: str, file: str) -> Any:
    try:
        return round_trip_yaml().load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        problem = " ".join(str(p) for p in (exc.context, exc.problem) if p)
        raise ConfigError([ConfigProblem(file, line, "", f"YAML syntax error: {problem}")]) from None


def line_of(mapping: Any, key: str | int) -> int | None:
    """The 1-based line of a key (or list item) in the parsed file, when known."""
    try:
        if isinstance(mapping, CommentedMap):
            return mapping.lc.key(key)[0] + 1
        if isinstance(mapping, CommentedSeq):
            return mapping.lc.item(key)[0] + 1
    except (KeyError, IndexError, TypeError, AttributeError):
        pass
    return None


def write_atomically(path: Path, text: str, *, backup: bool = False, mode: int | None = None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        elif path.exists():
            os.chmod(tmp, path.stat().st_mode & 0o777)
        if backup and path.exists():
            bak = path.with_name(path.name + ".bak")
            bak.write_bytes(path.read_bytes())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
