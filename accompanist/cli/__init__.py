"""`accompanist <verb>`: the command line. Each verb imports what it needs when it runs, so the
run-time verbs never load torch and start fast.

One module per verb group: ``files`` (harmonize, duet, demo, data), ``play`` (live, ui, ports,
presets), ``models`` (models, train, export), ``evaluate`` (eval) and ``bench``; each registers
its parsers, and ``COMMANDS`` maps a verb to the function that runs it.
"""

from __future__ import annotations

import argparse
import sys

from accompanist.cli.bench import _add_bench, cmd_bench
from accompanist.cli.evaluate import _add_eval, cmd_eval
from accompanist.cli.files import (
    _add_data,
    _add_demo,
    _add_duet,
    _add_harmonize,
    _add_respond,
    cmd_data,
    cmd_demo,
    cmd_duet,
    cmd_harmonize,
    cmd_respond,
)
from accompanist.cli.models import _add_export, _add_models, _add_train, cmd_export, cmd_models, cmd_train
from accompanist.cli.play import (
    _add_live,
    _add_ports,
    _add_presets,
    _add_ui,
    _live_settings,
    cmd_live,
    cmd_ports,
    cmd_presets,
    cmd_ui,
)
from accompanist.errors import AccompanistError

__all__ = ["COMMANDS", "_live_settings", "build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="accompanist", description="A real-time AI accompanist for MIDI keyboards.")
    from accompanist import __version__

    parser.add_argument("--version", action="version", version=f"accompanist {__version__}")
    sub = parser.add_subparsers(dest="verb", required=True, metavar="VERB")
    for add in (
        _add_demo,
        _add_harmonize,
        _add_duet,
        _add_respond,
        _add_data,
        _add_ports,
        _add_live,
        _add_ui,
        _add_presets,
        _add_models,
        _add_eval,
        _add_bench,
        _add_train,
        _add_export,
    ):
        add(sub)
    return parser


COMMANDS = {
    "demo": cmd_demo,
    "harmonize": cmd_harmonize,
    "duet": cmd_duet,
    "respond": cmd_respond,
    "data": cmd_data,
    "ports": cmd_ports,
    "live": cmd_live,
    "ui": cmd_ui,
    "presets": cmd_presets,
    "models": cmd_models,
    "eval": cmd_eval,
    "bench": cmd_bench,
    "train": cmd_train,
    "export": cmd_export,
}


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)  # a flag past its limit (``accompanist.limits``) is refused here
        return COMMANDS[args.verb](args)
    except AccompanistError as exc:
        print(f"accompanist: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        import errno

        # a place the user chose refuses the write: their error to fix, not a bug of ours
        if exc.errno not in (errno.EROFS, errno.EACCES, errno.EPERM, errno.ENOSPC, errno.EDQUOT):
            raise
        where = exc.filename or "the output"
        print(
            f"accompanist: error: {where}: cannot write there ({exc.strerror}); choose another place", file=sys.stderr
        )
        return 2
    except KeyboardInterrupt:
        print("accompanist: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `accompanist presets | head`: the reader has all it wanted
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit
        return 0


if __name__ == "__main__":
    sys.exit(main())
