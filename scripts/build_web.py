"""Build the static web pages: index, call-center lookup, demo pages with the chat widget, widget config.

    python scripts/build_web.py build/web --server http://localhost:5005

Serve the folder with any static web server (e.g. `python -m http.server -d build/web 8000`) while
`make run` is running; --server is the Rasa server the widget talks to.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from traeningsguide.knowledge import KnowledgeError, load_knowledge  # noqa: E402
from traeningsguide.web import build  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", type=Path, help="folder to write the pages to, e.g. build/web")
    parser.add_argument("--server", default="http://localhost:5005",
                        help="the Rasa server the widget talks to (default: %(default)s)")
    args = parser.parse_args(argv)
    try:
        kb = load_knowledge()
    except KnowledgeError as exc:
        print(exc, file=sys.stderr)
        return 2
    for path in build(kb, args.out_dir, args.server.rstrip("/")):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
