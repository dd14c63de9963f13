"""``livegan perform``: play a model live (``livegan.show.Show``), or a set of models as tracks with ``--set``
(``livegan.set_show.SetShow``, ``docs/sets.md``)."""
from __future__ import annotations

from livegan.errors import CLIError
from livegan.show import Show


def cli_perform(args) -> int:
    show_class = Show
    if getattr(args, "set", None) is not None:
        from livegan.set_show import SetShow

        show_class = SetShow
    with show_class(args) as show:
        show.open()
        show.connect()
        show.play()
    if show.errors:  # after everything else was written: the first problem is the error line
        raise CLIError(show.errors[0])
    return show.rc
