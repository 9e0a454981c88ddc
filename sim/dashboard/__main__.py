"""``python -m sim.dashboard [--port 8765] [--host localhost] [solara options]``: serve the page."""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    if "--port" not in args and not any(a.startswith("--port=") for a in args):
        args += ["--port", "8765"]
    from sim.dashboard import assets

    missing = assets.missing_packages()
    if missing:
        print("Fetching Solara's front-end files from the npm registry: " + ", ".join(missing), file=sys.stderr)
        try:
            assets.install(quiet=True)
        except RuntimeError as exc:
            print(f"warning: {exc}; the page may stay blank without them", file=sys.stderr)
    os.environ.setdefault("SOLARA_TELEMETRY_MIXPANEL_ENABLE", "false")  # no usage statistics sent
    # solara's own command line; the app is given as a module so the current directory does not matter.
    os.execv(sys.executable, [sys.executable, "-m", "solara", "run", "sim.dashboard.app", *args])


if __name__ == "__main__":
    main()
