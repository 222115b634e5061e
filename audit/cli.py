"""CLI commands of the audit package (mounted as ``propusk audit`` by propusk.cli)."""

from __future__ import annotations

import json

import typer

from propusk.db import session_scope
from propusk.runtime import build_runtime
from propusk.settings import get_settings

app = typer.Typer(no_args_is_help=True)


@app.command()
def verify(
    vkey: str = typer.Option(
        None, help="Pinned verifier key (C2SP vkey); default: derived from the stored key."
    ),
) -> None:
    """Recompute the tree from the table and check it against every signed checkpoint.

    Exits 1 and prints the first divergent position when the log was edited, truncated,
    reordered or had rows deleted or inserted.
    """
    from audit import checkpoint
    from audit.sequencer import run_once
    from audit.verify import verify_log

    runtime = build_runtime(get_settings())
    try:
        run_once(runtime.sessionmaker)  # committed first: verify the log with every event in it
        with session_scope(runtime.sessionmaker) as session:
            verifier = (
                checkpoint.parse_vkey(vkey)
                if vkey
                else checkpoint.trusted_verifier(session, runtime.settings)
            )
            report = verify_log(session, verifier)
            session.rollback()  # read-only: never persist a key created by this run
    finally:
        runtime.dispose()
    if report.divergence is not None:
        pos = report.divergence.position
        where = f"first divergent position {pos}" if pos is not None else "checkpoints"
        typer.echo(f"FAIL: {where}: {report.divergence.reason}", err=True)
        raise typer.Exit(1)
    typer.echo(
        f"OK: {report.size} events, {report.checkpoints} signed checkpoints verified, "
        f"root {report.root.hex()}"
    )
    for note in report.notes:
        typer.echo(f"note: {note}")


@app.command("checkpoint")
def sign_checkpoint() -> None:
    """Sign a checkpoint of the current tree (outbox integrated first) now and print it."""
    from audit import checkpoint, service

    runtime = build_runtime(get_settings())
    try:
        with session_scope(runtime.sessionmaker) as session:
            service.integrate_all(session)
            note = checkpoint.sign_checkpoint(session, runtime.settings).note
    finally:
        runtime.dispose()
    typer.echo(note, nl=False)


@app.command()
def sequence(
    follow: bool = typer.Option(
        False,
        "--follow",
        help="keep running: the sequencer thread in the foreground, until interrupted "
        "(with PROPUSK_AUDIT_SEQUENCER=external on the app processes)",
    ),
) -> None:
    """Integrate every pending (outbox) event into the log, sign a checkpoint of the tree (what
    the app's sequencer thread does; for deployments that run it from cron) and print both."""
    from audit import service
    from audit.sequencer import Sequencer, run_once, sign_due

    runtime = build_runtime(get_settings())
    if follow:
        _follow(Sequencer(runtime.sessionmaker, settings=runtime.settings), runtime)
        return
    try:
        count = run_once(runtime.sessionmaker)
        signed = sign_due(runtime.sessionmaker, runtime.settings, now=True)
        with session_scope(runtime.sessionmaker) as session:
            size, left = service.tree_size(session), service.pending_count(session)
    finally:
        runtime.dispose()
    typer.echo(
        f"OK: {count} events sequenced; tree size {size}; {left} pending; "
        f"checkpoint at size {signed.tree_size}"
    )


def _follow(sequencer, runtime) -> None:
    """Run ``sequencer`` until SIGINT/SIGTERM, then drain once more."""
    import signal
    import threading

    from audit.sequencer import run_once

    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    sequencer.start()
    typer.echo("audit sequencer running; Ctrl-C stops it")
    try:
        stop.wait()
    finally:
        sequencer.stop()
        run_once(runtime.sessionmaker)
        runtime.dispose()


@app.command()
def proof(index: int = typer.Argument(..., min=0)) -> None:
    """Print an event with its inclusion proof against the latest signed checkpoint."""
    from audit import service

    runtime = build_runtime(get_settings())
    try:
        with session_scope(runtime.sessionmaker) as session:
            data = service.inclusion_proof_for(session, index, runtime.settings)
    except service.Problem as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    finally:
        runtime.dispose()
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False))


@app.command()
def key() -> None:
    """Print the verifier key (C2SP vkey) auditors pin."""
    from audit import checkpoint

    runtime = build_runtime(get_settings())
    try:
        with session_scope(runtime.sessionmaker) as session:
            typer.echo(checkpoint.verifier_key(session, runtime.settings))
    finally:
        runtime.dispose()
