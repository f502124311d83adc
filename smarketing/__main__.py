"""`python -m smarketing`."""

import sys

from smarketing.cli import main

if __name__ == "__main__":
    sys.exit(main())
