"""``python -m labsqs.load`` = ``labsqs bench``."""

import sys

from labsqs.load.command import main

sys.exit(main())
