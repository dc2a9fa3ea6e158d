"""The course's small package: interactive widgets, data helpers and exercise checks.

Lessons import from here, so each piece of code has exactly one home (see DESIGN.md):
``widgets.data`` (datasets and toy data), ``widgets.notebook`` (seeding, device,
showing source code), one module per widget, and ``widgets.checks`` for exercises.
"""

__version__ = "0.1.0"
