"""``python -m labsqs.plan`` = ``labsqs plan``."""

import sys

from labsqs.cli import main

sys.exit(main(["plan", *sys.argv[1:]]))
