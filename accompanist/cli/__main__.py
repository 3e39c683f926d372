"""`python -m accompanist.cli`: the same as the `accompanist` command."""

import sys

from accompanist.cli import main

sys.exit(main())
