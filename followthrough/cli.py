"""The `followthrough` command.

`parse` and `generate` work on files alone (no database, no Django, fast);
every other command is a Django management command run against the
configured database: `import`, `export`, `loaddemo`, and Django's own
(`migrate`, `runserver`, `createsuperuser`, ...).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

# Our commands whose management-command names differ from the CLI names.
ALIASES = {"import": "import_documents", "export": "export_documents"}

USAGE = """usage: followthrough <command> [options]

Documents (no database needed):
  parse FILE [--format json|gate]     read a GATE management response page
  generate --count N -o DIR [--seed S] write N realistic synthetic GATE documents

Records:
  import PATH...                      import GATE documents (files, folders, globs)
  export [--evaluation ID] --format gate|json|csv [-o FILE]
  loaddemo                            reference offices, the two real samples, demo users
  worker                              run queued and periodic jobs (beside the web servers)
  remind [--dry-run] [--today DATE]   send the day's reminders (the worker does it daily); --dry-run lists them

Operations:
  backup FILE                         the database and evidence files, in one archive, while running
  restore FILE [--force]              put a backup back (refuses to replace data without --force)

Django:
  migrate, runserver, createsuperuser, check, shell, ... (any manage.py command)

Run `followthrough <command> --help` for a command's options.
"""


def read_document(path: str) -> tuple[str, str | None]:
    """The file's text, and a note if it was not UTF-8."""
    data = sys.stdin.buffer.read() if path == "-" else Path(path).read_bytes()
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError as exc:
        return data.decode("cp1252", errors="replace"), f"not UTF-8 ({exc.reason} at byte {exc.start}); read as Windows-1252"


def cmd_parse(argv: list[str]) -> int:
    import gateformat

    p = argparse.ArgumentParser(prog="followthrough parse", description="Read a GATE management response page.")
    p.add_argument("file", help="the page as text (- for standard input)")
    p.add_argument("--format", choices=["json", "gate"], default="json")
    p.add_argument("-q", "--quiet", action="store_true", help="do not print warnings on standard error")
    args = p.parse_args(argv)
    name = "<stdin>" if args.file == "-" else args.file
    try:
        text, note = read_document(args.file)
    except OSError as exc:
        print(f"{name}: cannot read: {exc.strerror}", file=sys.stderr)
        return 1
    try:
        doc = gateformat.parse(text, source=os.path.basename(name))
    except gateformat.GateFormatError as exc:
        print(f"{name}:{exc.line or 1}: {exc.message}", file=sys.stderr)
        return 1
    if not args.quiet:
        if note:
            print(f"{name}: warning: {note}", file=sys.stderr)
        for w in doc.warnings:
            print(f"{name}:{w.line}: warning: {w.message}", file=sys.stderr)
    if args.format == "gate":
        sys.stdout.write(gateformat.render(doc))
    else:
        json.dump(doc.to_dict(), sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
    return 0


def cmd_generate(argv: list[str]) -> int:
    from gateformat import generate

    p = argparse.ArgumentParser(
        prog="followthrough generate", description="Write realistic synthetic GATE documents (seeded)."
    )
    p.add_argument("--count", type=int, required=True)
    p.add_argument("-o", "--output", required=True, help="directory to write into")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--expected", action="store_true", help="also write each document's exact content as .expected.json")
    args = p.parse_args(argv)
    if args.count < 0:
        p.error("--count must be 0 or more")
    paths = generate.write(args.output, args.count, seed=args.seed, expected=args.expected)
    print(f"wrote {len(paths)} documents to {args.output}")
    return 0


PURE = {"parse": cmd_parse, "generate": cmd_generate}


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(USAGE)
        return 0
    if argv[0] in PURE:
        try:
            return PURE[argv[0]](argv[1:])
        except BrokenPipeError:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return 0
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "followthrough.settings")
    from django.core.management import execute_from_command_line

    argv[0] = ALIASES.get(argv[0], argv[0])
    try:
        execute_from_command_line(["followthrough", *argv])
    except BrokenPipeError:
        # The reader went away (`followthrough export ... | head`): not an error of ours.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0


if __name__ == "__main__":
    sys.exit(main())
