"""``python -m train DATA_DIR ...`` is ``livegan train DATA_DIR ...``."""
import sys

from livegan.cli import main

sys.exit(main(["train", *sys.argv[1:]]))
