"""``python -m bayescluster.cli``: the command line, as the ``bayescluster`` script."""

import sys

from bayescluster.cli import main

sys.exit(main())
