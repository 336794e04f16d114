"""``python -m stageflow`` is the ``stageflow`` command."""

from .cli import main

main()
