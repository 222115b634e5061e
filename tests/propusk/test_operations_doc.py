"""docs/operations.md names only commands that exist: every ``propusk …`` in its code (inline
spans, indented blocks, unit files) must resolve in the real Typer app, with each ``--option``
written after it, and answer ``--help``. An operator copies these lines into timers and runbooks;
a renamed command must break this test, not a night's job."""

from __future__ import annotations

import re
from pathlib import Path

from typer.main import get_command
from typer.testing import CliRunner

from propusk.cli import app

DOC = Path(__file__).parents[2] / "docs" / "operations.md"
# "propusk" as a word of its own followed by a space and a lowercase word: not propusk.caches,
# not /opt/propusk/.venv, not a database called propusk_restored.
COMMAND = re.compile(r"(?<![\w.-])propusk((?: +[^\s`|;&#)\"'\]]+)+)")
WORD = re.compile(r"[a-z][a-z0-9-]*")


def code_of(markdown: str) -> list[str]:
    """The code of the document: inline spans and indented or fenced blocks, line by line."""
    out: list[str] = []
    fenced = False
    for line in markdown.splitlines():
        if line.startswith("```"):
            fenced = not fenced
            continue
        if fenced or line.startswith("    "):
            out.append(line)
        else:
            out.extend(re.findall(r"`([^`]+)`", line))
    return out


def documented_commands(markdown: str) -> list[tuple[list[str], list[str], str]]:
    """(command path words, --options written after it, the text) for each ``propusk …``."""
    found = []
    for code in code_of(markdown):
        for match in COMMAND.finditer(code):
            tokens = match.group(1).split()
            words = []
            for token in tokens:
                if not WORD.fullmatch(token):
                    break
                words.append(token)
            options = [t.split("=", 1)[0] for t in tokens if t.startswith("--")]
            if words:
                found.append((words, options, "propusk" + match.group(1)))
    return found


def resolve(words: list[str]) -> tuple[list[str], object]:
    """The longest prefix of ``words`` that names a command of the CLI (the rest: arguments)."""
    command = get_command(app)  # a group's subcommands: ``.commands`` (Typer's own click)
    path: list[str] = []
    for word in words:
        if word not in getattr(command, "commands", {}):
            break
        command = command.commands[word]
        path.append(word)
    return path, command


def test_the_extractor_sees_commands_and_ignores_look_alikes():
    text = (
        "Run `propusk audit verify --vkey X` and `propusk.caches`.\n"
        "    ExecStart=/opt/propusk/.venv/bin/propusk consent expire\n"
        "    pg_restore -d propusk_restored dump && propusk keys retire KID\n"
        "`ALTER DATABASE propusk SET timezone = 'UTC'`\n"
    )
    got = [(w, o) for w, o, _ in documented_commands(text)]
    assert got == [
        (["audit", "verify"], ["--vkey"]),
        (["consent", "expire"], []),
        (["keys", "retire"], []),
    ]
    assert resolve(["keys", "retire", "abc"])[0] == ["keys", "retire"]
    assert resolve(["frobnicate"])[0] == []


def test_every_documented_command_exists_with_its_options():
    commands = documented_commands(DOC.read_text(encoding="utf-8"))
    assert len(commands) >= 20  # the handbook names the jobs, the rotations and the restore
    runner = CliRunner()
    problems = []
    for words, options, text in commands:
        path, command = resolve(words)
        if not path or (hasattr(command, "commands") and len(path) < len(words)):
            problems.append(f"{text}: no such command")
            continue
        known = {opt for param in command.params for opt in (*param.opts, *param.secondary_opts)}
        problems += [f"{text}: {path} has no option {o}" for o in options if o not in known]
        result = runner.invoke(app, [*path, "--help"])
        if result.exit_code != 0:
            problems.append(f"{text}: --help exited {result.exit_code}: {result.output[-300:]}")
    assert not problems, "\n".join(problems)


def test_every_scheduled_job_is_a_command():
    """The jobs table's rows each start with a command (the table is what operators copy)."""
    doc = DOC.read_text(encoding="utf-8")
    section = doc.split("## Jobs to schedule", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| ") and "`propusk" in line]
    jobs = {" ".join(words) for row in rows for words, _, _ in documented_commands(row)}
    assert {
        "consent expire",
        "consent overdue",
        "biometrics purge-frames",
        "clients purge-expired",
        "audit verify",
        "audit checkpoint",
        "audit sequence",
    } <= jobs
