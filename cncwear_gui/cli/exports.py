"""``cncwear export``: alarms, the audit trail, the prediction log, tool changes and labels to CSV or Parquet."""

from __future__ import annotations

from .base import EXIT_OK, BadInput, emit
from .common import TerminalProgress, progress_printer, redact


def cmd_export(args) -> int:
    from ..store.exports import ExportRejected, export
    from ..tasks import Task
    from .teach import store_url

    bar = TerminalProgress(args)
    report = progress_printer(args)

    def progress(fraction: float, message: str) -> None:
        bar(fraction, message)
        report(fraction, message)

    url = store_url(args)
    try:
        result = export(args.kind, args.output, url, args.format, args.machine, args.since, args.until,
                        task=Task(progress))
    except ExportRejected as error:
        raise BadInput(str(error)) from None
    finally:
        bar.close()
    where = f" from {redact(url)}" if url else ""
    emit(args, {"export": result.to_json()},
         f"{result.rows:,} {args.kind} rows written to {result.path} ({result.format}){where}")
    return EXIT_OK


def register(commands) -> None:
    from ..store.exports import FORMATS, KINDS

    exporter = commands.add_parser(
        "export", help="export alarms, the audit trail, the prediction log, tool changes or labels to CSV or Parquet",
        description="Write one kind of stored row to a CSV or Parquet file, oldest first, filtered by machine "
                    "and time. The file appears whole when the export is done (nothing half-written). Times are UTC.")
    exporter.add_argument("kind", choices=list(KINDS), metavar="KIND", help=f"one of: {', '.join(KINDS)}")
    exporter.add_argument("-o", "--output", required=True, metavar="FILE", help="the file to write (.csv or .parquet)")
    exporter.add_argument("--format", choices=FORMATS, help="csv or parquet (default: from the file's suffix)")
    exporter.add_argument("--machine", action="append", metavar="ID",
                          help="only this machine (repeat for several; default: all)")
    exporter.add_argument("--since", metavar="ISO", help="from this time on, inclusive (ISO 8601; without an offset: UTC)")
    exporter.add_argument("--until", metavar="ISO", help="before this time, exclusive (ISO 8601; without an offset: UTC)")
    exporter.add_argument("--store", metavar="URL", help="the database (default: the settings' feature store)")
    exporter.add_argument("--json", action="store_true")
    exporter.add_argument("--progress-json", action="store_true", help="progress and the result as JSON lines")
    exporter.set_defaults(func=cmd_export)
