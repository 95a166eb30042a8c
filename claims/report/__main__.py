import sys

from claims.report import main

sys.exit(main())
