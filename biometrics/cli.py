"""CLI commands of the biometrics package (mounted by propusk.cli as ``propusk biometrics``)."""

from __future__ import annotations

import json
from pathlib import Path

import typer

app = typer.Typer(no_args_is_help=True)


@app.command("evaluate")
def evaluate_cmd(
    pairs_csv: Path = typer.Argument(..., help="CSV of file_a,file_b,same (paths relative to it)"),
    threshold: float | None = typer.Option(None, help="override PROPUSK_FACE_THRESHOLD"),
) -> None:
    """Measure FMR/FNMR of the production pipeline on labelled pairs; prints one JSON object."""
    from biometrics.evaluate import PairsFileError, evaluate, read_pairs
    from propusk.settings import get_settings

    try:
        pairs = read_pairs(pairs_csv)
    except (OSError, PairsFileError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    limit = threshold if threshold is not None else get_settings().face_threshold
    report = evaluate(pairs, pairs_csv.resolve().parent, limit)
    typer.echo(json.dumps(report, ensure_ascii=False))


@app.command("pairs")
def pairs_cmd(
    labels_csv: Path = typer.Argument(..., help="labels.csv with file,person columns"),
    out: Path = typer.Option(..., help="where to write the pairs CSV (next to the images)"),
) -> None:
    """Write every genuine and impostor pair of a labelled face set as a pairs CSV."""
    from biometrics.evaluate import labelled_pairs, write_pairs

    pairs = labelled_pairs(labels_csv)
    write_pairs(pairs, out, labels_csv.resolve().parent)
    typer.echo(f"{len(pairs)} pairs ({sum(p.same for p in pairs)} genuine) written to {out}")


@app.command("purge-frames")
def purge_frames_cmd() -> None:
    """Destroy evidence frames whose retention period has ended (run daily)."""
    from biometrics.retention import purge_expired_evidence
    from propusk.db import session_scope, utcnow
    from propusk.runtime import build_runtime

    rt = build_runtime()
    try:
        with session_scope(rt.sessionmaker) as session:
            n = purge_expired_evidence(session, utcnow())
    finally:
        rt.dispose()
    typer.echo(f"{n} evidence frames destroyed")
