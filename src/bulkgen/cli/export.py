"""``bulkgen batch export``: download a batch's passed items as a file to import elsewhere.

Nothing is overwritten without ``--force``, even a file that appears while the export
downloads.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.text import Text

from bulkgen.cli.format import output_console
from bulkgen.cli.remote import (
    DEFAULT_SERVER,
    BatchIdArg,
    ServerOpt,
    TokenOpt,
    call_server,
    fail,
    run_command,
)
from bulkgen.client import ExportFile
from bulkgen.export import ExportFormat


def export(
    batch_id: BatchIdArg,
    export_format: Annotated[
        ExportFormat,
        typer.Option(
            "--format",
            help="jsonl (JSON Lines), csv, moodle (Moodle XML) or qti (QTI 2.1 package, ZIP)",
        ),
    ],
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="File to write, '-' for stdout [default: the server's file name, here]",
        ),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file")] = False,
    server: ServerOpt = DEFAULT_SERVER,
    token: TokenOpt = None,
) -> None:
    """Download a batch's passed items as a file to import elsewhere (an LMS, a sheet)."""
    to_stdout = output is not None and str(output) == "-"
    if output is not None and not to_stdout and not force and output.exists():
        fail(f"{output} exists; use --force to overwrite it")
    exported = run_command(
        call_server(server, token, lambda client: client.export(batch_id, export_format))
    )
    if to_stdout:
        typer.get_binary_stream("stdout").write(exported.content)
        return
    path = output if output is not None else Path(exported.filename)
    _write_export(path, exported, force=force)


def _write_export(path: Path, exported: ExportFile, *, force: bool) -> None:
    try:
        # "x" creates the file or fails: nothing is overwritten without --force, even if
        # the file appeared while the export downloaded.
        with path.open("wb" if force else "xb") as file:
            file.write(exported.content)
    except FileExistsError:
        fail(f"{path} exists; use --force to overwrite it")
    except OSError as error:
        fail(f"cannot write {path}: {error.strerror or error}")
    count = exported.item_count
    what = f"{count} passed item{'s' if count != 1 else ''}" if count is not None else "the items"
    output_console().print(Text(f"Exported {what} to {path}"), soft_wrap=True)
