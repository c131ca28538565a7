"""Which OPC UA node carries which column: the mapping file of an OPC UA machine.

The file is a CSV with the header ``column,node_id``, one column a line, ``#`` starting a
comment. Everything after the first comma is the node id, so string identifiers may contain
commas. Node ids are asyncua strings: ``ns=2;s=Spindle.Power``, ``ns=3;i=1042`` or, robust
against servers that number their namespaces differently after a restart, the namespace URI
form ``nsu=urn:cncwear:simulator;s=X1_ActualPosition`` (resolved with :func:`resolve` once
connected).

Every one of the 47 signal columns needs a node; ``Machining_Process`` and the job constants
``feedrate`` and ``clamp_pressure`` are optional.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from asyncua import ua

from ..data.schema import PROCESS_COLUMN, SIGNAL_COLUMNS
from .sources import JOB_KEYS

#: The namespace of the simulator's nodes (see :mod:`.opcua_simulator`).
NAMESPACE_URI = "urn:cncwear:simulator"
HEADER = ("column", "node_id")
SAMPLE_COLUMNS: tuple[str, ...] = SIGNAL_COLUMNS + (PROCESS_COLUMN,)  # reported once per sample
ALLOWED_COLUMNS: tuple[str, ...] = SAMPLE_COLUMNS + JOB_KEYS


class MappingError(ValueError):
    """A mapping file the user must fix; the message names the file and line."""

    def __init__(self, path: str, line: int, problem: str):
        super().__init__(f"{path}, line {line}: {problem}" if line else f"{path}: {problem}")
        self.path, self.line, self.problem = path, line, problem


@dataclass(frozen=True)
class Mapping:
    nodes: dict[str, str]  # column → node id text, in file order
    source: str = "built-in mapping"  # the file it came from

    @property
    def sample_columns(self) -> list[str]:
        """The mapped columns reported with every sample (signals and process)."""
        return [c for c in self.nodes if c not in JOB_KEYS]

    @property
    def job_columns(self) -> list[str]:
        """The mapped job constants: their latest value applies, they need not report per sample."""
        return [c for c in self.nodes if c in JOB_KEYS]


def parse_node_id(text: str) -> ua.NodeId:
    """The node id of ``text``; an ``ua.ExpandedNodeId`` with ``NamespaceUri`` for ``nsu=``."""
    try:
        node_id = ua.NodeId.from_string(text)
    except (ua.UaError, ValueError) as error:
        raise ValueError(f"'{text}' is not a node id (e.g. ns=2;s=Name, ns=2;i=1001, "
                         f"nsu={NAMESPACE_URI};s=Name)") from error
    if node_id.Identifier in ("", None):
        raise ValueError(f"'{text}' has an empty identifier")
    return node_id


def load_mapping(path: str | Path) -> Mapping:
    """Read and check a mapping file; raises :class:`MappingError` on the first problem."""
    name = str(path)
    try:
        lines = Path(path).read_text(encoding="utf-8-sig").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise MappingError(name, 0, f"cannot read the mapping file: {error}") from None
    nodes: dict[str, str] = {}
    where: dict[str, int] = {}
    header_seen = False
    for number, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        column, comma, node_text = (part.strip() for part in line.partition(","))
        if not header_seen:
            if (column.lower(), node_text.lower()) != HEADER:
                raise MappingError(name, number, f"expected the header '{','.join(HEADER)}', found '{line}'")
            header_seen = True
            continue
        if not comma or not node_text:
            raise MappingError(name, number, f"expected COLUMN,NODE_ID, found '{line}'")
        if column not in ALLOWED_COLUMNS:
            raise MappingError(name, number, f"unknown column '{column}'; allowed are the 47 signal columns, "
                                             f"{PROCESS_COLUMN} and {', '.join(JOB_KEYS)}")
        if column in nodes:
            raise MappingError(name, number, f"column {column} is mapped twice (first on line {where[column]})")
        try:
            parse_node_id(node_text)
        except ValueError as error:
            raise MappingError(name, number, str(error)) from None
        nodes[column] = node_text
        where[column] = number
    end = len(lines) + 1
    if not header_seen:
        raise MappingError(name, end, f"no header '{','.join(HEADER)}' and no mappings")
    missing = [c for c in SIGNAL_COLUMNS if c not in nodes]
    if missing:
        shown = ", ".join(missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
        raise MappingError(name, end, f"end of file: no node for signal column(s) {shown}; "
                                      "every one of the 47 signals needs a node")
    return Mapping(nodes, name)


def default_mapping() -> Mapping:
    """The mapping of the simulator: every column a string node of that name in its namespace (the
    simulator has no program node: a real machine's mapping may add one)."""
    return Mapping({column: f"nsu={NAMESPACE_URI};s={column}" for column in ALLOWED_COLUMNS if column != "program"})


def write_mapping(path: str | Path, mapping: Mapping | None = None) -> Path:
    """Write ``mapping`` (the simulator's by default) as a commented template users can edit."""
    mapping = mapping or default_mapping()
    lines = [
        "# cncwear OPC UA mapping: which node carries which column.",
        "# Node ids: nsu=NAMESPACE_URI;s=NAME (preferred), ns=INDEX;s=NAME or ns=INDEX;i=NUMBER.",
        "# All 47 signal columns are required; Machining_Process, feedrate and clamp_pressure are",
        "# optional (feedrate/clamp_pressure given with --machine ...?feedrate=X override the nodes).",
        ",".join(HEADER),
        *(f"{column},{node}" for column, node in mapping.nodes.items()),
    ]
    path = Path(path)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def resolve(mapping: Mapping, namespaces: list[str]) -> dict[str, ua.NodeId]:
    """Column → node id on a server whose NamespaceArray is ``namespaces`` (``nsu=`` → index).

    Raises ValueError naming the namespace URI the server does not have.
    """
    resolved: dict[str, ua.NodeId] = {}
    for column, text in mapping.nodes.items():
        node_id = parse_node_id(text)
        uri = getattr(node_id, "NamespaceUri", None)
        if uri:
            if uri not in namespaces:
                raise ValueError(f"the server has no namespace {uri} (needed for {column}, {mapping.source}); "
                                 f"it has {', '.join(namespaces)}")
            node_id = ua.NodeId(node_id.Identifier, namespaces.index(uri), node_id.NodeIdType)
        resolved[column] = node_id
    return resolved
