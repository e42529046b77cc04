"""Serve the generated web folder (demo pages, widget, lookup page) with the standard library.

    python scripts/serve_web.py build/web --port 8000
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from traeningsguide.web import make_server  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("directory")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args()
    with make_server(args.directory, args.host, args.port) as server:
        server.serve_forever()


if __name__ == "__main__":
    main()
