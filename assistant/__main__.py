"""``python -m assistant``: the same program as the ``lossdoctor`` command."""

import sys

from assistant.cli import main

if __name__ == "__main__":
    sys.exit(main())
