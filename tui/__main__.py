"""Allow `python -m tui` as a synonym for the `ptui` command."""

import sys

from tui.cli import main

sys.exit(main())
