"""Tidy engine (整形エンジン): 機械可読性 checker and messy-Excel → tidy-data converter.

    from kiban.engines.tidy import check, convert
    report = check("表12-1.xlsx")            # Report: findings with rule IDs, score
    result = convert("表12-1.xlsx", "out/")   # tidy frames + CSV/Parquet/datapackage.json + recipe

Pure library: nothing here imports Django (the web page and API live in views.py / api.py).
"""

import os

# Polars allocates through jemalloc, which by default keeps freed pages for 10 s before returning them to the
# OS: the batches of the value pass then pile up in the resident size (~75 MB more peak on the benchmark's
# 100,000 × 20 sheet). Return them at once. It only takes effect if Polars is not imported yet (the CLI, a
# worker that imports this first); an explicit setting in the environment wins.
os.environ.setdefault("_RJEM_MALLOC_CONF", "dirty_decay_ms:0,muzzy_decay_ms:0")

from .engine import Conversion, Report, check, convert, load_recipe  # noqa: E402
from .errors import TidyError  # noqa: E402
from .reader import Limits  # noqa: E402

__all__ = ["Conversion", "Limits", "Report", "TidyError", "check", "convert", "load_recipe"]
