"""``python -m labsqs.load`` = ``labsqs bench``."""

import sys

from labsqs.cli import main

sys.exit(main(["bench", *sys.argv[1:]]))
