"""Tidy engine (整形エンジン): 機械可読性 checker and messy-Excel → tidy-data converter.

    from kiban.engines.tidy import check, convert
    report = check("表12-1.xlsx")            # Report: findings with rule IDs, score
    result = convert("表12-1.xlsx", "out/")   # tidy frames + CSV/Parquet/datapackage.json + recipe

Pure library: nothing here imports Django (the web page and API live in views.py / api.py).
"""

from .engine import Conversion, Report, check, convert, load_recipe
from .errors import TidyError
from .reader import Limits

__all__ = ["Conversion", "Limits", "Report", "TidyError", "check", "convert", "load_recipe"]
