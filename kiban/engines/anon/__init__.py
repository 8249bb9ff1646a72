"""匿名加工・統計データ化エンジン (anon): anonymised microdata (行政機関等匿名加工情報) and safe statistical tables.

Library first (no Django here): `engine.run(config)` validates a YAML/JSON configuration against the data,
finds the transformation with minimal information loss over the full generalisation lattice that satisfies
k-anonymity, ℓ-diversity and t-closeness within a record-suppression limit (search.py), and writes the
released table with a risk report (JSON + HTML) and the checklist for the processing standards.
`tables.make()` builds frequency/magnitude tables with primary and secondary suppression and DP counts.
The CLI is `kiban anon run|risk|table`; see docs/anon.md.
"""

from .errors import AnonError

__all__ = ["AnonError"]
