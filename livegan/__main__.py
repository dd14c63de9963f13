import sys

from livegan.cli import main

sys.exit(main())
