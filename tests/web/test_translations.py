"""The Turkish catalog is complete, compiled from its current text, and in step with the code:
a string added to a page without its translation fails here, not in front of a customer."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest

ROOT = Path(__file__).resolve().parents[2]
CATALOG = ROOT / "smmpanel" / "locale" / "tr" / "LC_MESSAGES"


def test_every_string_is_translated_and_none_is_fuzzy() -> None:
    po = polib.pofile(str(CATALOG / "django.po"))
    missing = [e.msgid for e in po if not e.obsolete and not e.translated()]
    fuzzy = [e.msgid for e in po if "fuzzy" in e.flags]
    assert missing == [] and fuzzy == []


def test_the_compiled_catalog_is_the_current_text() -> None:
    po = polib.pofile(str(CATALOG / "django.po"))
    mo = polib.mofile(str(CATALOG / "django.mo"))

    def pairs(catalog: polib._BaseFile) -> set[tuple[str, str, str]]:
        return {
            (e.msgctxt or "", e.msgid, e.msgstr or str(e.msgstr_plural))
            for e in catalog
            if not e.obsolete and e.msgid
        }

    assert pairs(po) == pairs(mo), "run `make messages` and commit smmpanel/locale"


@pytest.mark.skipif(shutil.which("xgettext") is None, reason="needs GNU gettext (xgettext)")
def test_the_catalog_holds_every_string_the_code_marks(tmp_path: Path) -> None:
    # makemessages into a copy of the catalog; the copy must not gain or lose a string.
    before = {e.msgid for e in polib.pofile(str(CATALOG / "django.po")) if not e.obsolete}
    copy = tmp_path / "locale"
    shutil.copytree(ROOT / "smmpanel" / "locale", copy)
    script = (
        "import django, sys; from django.conf import settings; "
        "from django.core.management import call_command; django.setup(); "
        f"settings.LOCALE_PATHS = [{str(copy)!r}]; "
        "call_command('makemessages', locale=['tr'], no_obsolete=True, verbosity=0, "
        "ignore_patterns=['tests/*', 'bench/*', 'var/*', 'scripts/*', 'docs/*', "
        "'smmpanel/simulator/*'])"
    )
    subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        check=True,
        env={"DJANGO_SETTINGS_MODULE": "smmpanel.settings", "PATH": "/usr/bin:/bin"},
    )
    after = {
        e.msgid
        for e in polib.pofile(str(copy / "tr" / "LC_MESSAGES" / "django.po"))
        if not e.obsolete
    }
    assert after - before == set(), "strings not in the catalog: run `make messages`"
    assert before - after == set(), "strings the code no longer has: run `make messages`"
