"""`python -m llmopt.cli` runs the CLI."""

import sys

from llmopt.cli import main

sys.exit(main())
