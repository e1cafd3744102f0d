"""The `assistant` command (also ``python -m assistant``)."""

import atexit
import gc
import os
import sys

# Commands that write nothing: once they have printed, the process may end without
# tearing down ONNX Runtime's sessions and Chroma's client one object at a time.
READ_ONLY = frozenset({"ask"})


def run() -> None:
    """Import the command with the garbage collector off, run it, and end.

    Importing the command, Chroma and their libraries creates about a million objects,
    none of them garbage; collecting while they are made took about 0.1 s of every
    start. Once imported, they are frozen (never scanned again) and collection resumes.
    A read-only command then ends at once after the exit handlers (which wait for any
    model still loading): the teardown took another 0.2 s.
    """
    gc.disable()
    from assistant.cli import main

    gc.freeze()
    gc.enable()
    try:
        main()
    except SystemExit as end:
        if sys.argv[1:2] and sys.argv[1] in READ_ONLY:
            code = end.code if isinstance(end.code, int) else 0 if end.code is None else 1
            sys.stdout.flush()
            sys.stderr.flush()
            atexit._run_exitfuncs()
            os._exit(code)
        raise


if __name__ == "__main__":
    run()
