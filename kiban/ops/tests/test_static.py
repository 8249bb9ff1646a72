"""`collectstatic` with whitenoise's manifest storage (production) finds every file the templates name."""

from __future__ import annotations

import json
import re
from pathlib import Path

from django.conf import settings
from django.core.management import call_command

TEMPLATES = Path(settings.BASE_DIR)


def test_manifest_has_every_static_file_templates_use(tmp_path, settings):
    settings.STATIC_ROOT = tmp_path
    settings.STORAGES = {**settings.STORAGES,
                         "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"}}
    call_command("collectstatic", "--noinput", verbosity=0)
    manifest = json.loads((tmp_path / "staticfiles.json").read_text())["paths"]
    used = set()
    for template in TEMPLATES.rglob("*.html"):
        used |= set(re.findall(r"{%\s*static\s+['\"]([^'\"]+)['\"]", template.read_text(encoding="utf-8")))
    assert {"kiban/kiban.css", "vendor/htmx/htmx.min.js"} <= used
    missing = sorted(name for name in used if name not in manifest)
    assert not missing, f"templates name static files that collectstatic did not produce: {missing}"
    css = (tmp_path / manifest["kiban/kiban.css"]).read_text()
    # the design tokens are imported through their hashed name, so caches never serve a stale one
    tokens = manifest["vendor/digital-go-jp-design-tokens/tokens.css"].split("/")[-1]
    assert tokens in css and (tmp_path / manifest["vendor/digital-go-jp-design-tokens/tokens.css"]).exists()
    assert (tmp_path / (manifest["kiban/kiban.css"] + ".gz")).exists()
