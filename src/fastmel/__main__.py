"""``python -m fastmel``: the ``fastmel`` command."""
from fastmel.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
