"""Kiban — 国・地方デジタル共通基盤 (national–local shared digital platform)."""

__version__ = "0.1.0"
