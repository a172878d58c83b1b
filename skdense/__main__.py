"""``python -m skdense``: the same as the ``skdense`` command."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
