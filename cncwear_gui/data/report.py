"""Validation outcomes: problems located by file, line and column, and per-file reports."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Problem:
    """One finding. ``line`` and ``column`` are 1-based positions in the file (None = whole file)."""

    message: str
    line: int | None = None
    column: int | None = None

    def to_json(self) -> dict:
        return {"line": self.line, "column": self.column, "message": self.message}

    def located(self, path: str | Path) -> str:
        where = str(path)
        if self.line is not None:
            where += f", line {self.line}"
        if self.column is not None:
            where += f", column {self.column}"
        return f"{where}: {self.message}"


class DataError(Exception):
    """A file that cannot be used. Carries where the problem is."""

    def __init__(self, path: str | Path, problem: Problem):
        super().__init__(problem.located(path))
        self.path = str(path)
        self.problem = problem


@dataclass
class FileReport:
    path: str
    kind: str = "experiment"  # or "metadata"
    rows: int = 0
    experiment: int | None = None
    sha256: str | None = None
    unlabelled: bool = False  # valid signals, no experiment number: predict, drift, explain; not training
    flags: dict[str, int] = field(default_factory=dict)
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)

    @property
    def status(self) -> str:
        if self.errors:
            return "rejected"
        return "warning" if self.warnings else "ok"

    @property
    def status_text(self) -> str:
        """The status as shown: ``warning: unlabelled`` for a usable file without experiment number."""
        return "warning: unlabelled" if self.unlabelled and self.usable else self.status

    @property
    def usable(self) -> bool:
        return not self.errors

    def reject(self, message: str, line: int | None = None, column: int | None = None) -> None:
        self.errors.append(Problem(message, line, column))

    def warn(self, message: str, line: int | None = None, column: int | None = None) -> None:
        self.warnings.append(Problem(message, line, column))

    def to_json(self) -> dict:
        return {
            "path": self.path,
            "kind": self.kind,
            "experiment": self.experiment,
            "rows": self.rows,
            "status": self.status,
            "unlabelled": self.unlabelled,
            "flags": dict(self.flags),
            "errors": [p.to_json() for p in self.errors],
            "warnings": [p.to_json() for p in self.warnings],
            "sha256": self.sha256,
        }
