"""The Textual dashboard (``artenic optimizer dashboard``).

Importing this package imports nothing heavy; ``tui.app`` (Textual) is imported by the
``dashboard`` command only when it runs, and ``tui.data``, ``tui.mappers``, ``tui.demo_setup``
and ``tui.view_models`` are free of Textual so that the dashboard's numbers can be produced and
tested without a terminal.
"""
