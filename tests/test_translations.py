"""The Simplified Chinese catalogue is complete, keeps its placeholders and is compiled."""

from __future__ import annotations

import gettext
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.utils import translation

LOCALE = Path(__file__).resolve().parent.parent / "src" / "manyi" / "locale"
ZH_PO = LOCALE / "zh_Hans" / "LC_MESSAGES" / "django.po"
EN_PO = LOCALE / "en" / "LC_MESSAGES" / "django.po"
CJK = re.compile(r"[\u4e00-\u9fff]")
PLACEHOLDER = re.compile(r"%\((\w+)\)[sdifr]|%[sdifr]|\{(\w*)\}")


@dataclass
class Entry:
    msgid: str = ""
    msgctxt: str | None = None
    msgid_plural: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)

    @property
    def key(self) -> str:
        return self.msgid if self.msgctxt is None else f"{self.msgctxt}\x04{self.msgid}"


def _unquote(s: str) -> str:
    escapes = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}
    return re.sub(r"\\(.)", lambda m: escapes.get(m.group(1), m.group(0)), s.strip()[1:-1])


def read_po(path: Path) -> list[Entry]:
    """A small .po reader: enough for the files makemessages writes (obsolete entries are skipped)."""
    entries: list[Entry] = []
    entry, target = Entry(), None
    started = False

    def flush() -> None:
        nonlocal entry, started
        if started:
            entries.append(entry)
        entry, started = Entry(), False

    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        if line.startswith("#,"):
            if started and target is not None and target[0] == "msgstr":
                flush()
            entry.flags |= {f.strip() for f in line[2:].split(",")}
            continue
        if line.startswith("#"):
            continue
        keyword, _, rest = line.partition(" ")
        if keyword.startswith('"'):
            value = _unquote(line)
        else:
            value = _unquote(rest)
            if keyword in ("msgctxt", "msgid") and started and target is not None and target[0] == "msgstr":
                flush()
            started = True
            m = re.fullmatch(r"msgstr\[(\d+)\]", keyword)
            target = ("msgstr", int(m.group(1))) if m else (keyword, 0)
            if target[0] == "msgstr":
                entry.msgstr[target[1]] = ""
            elif keyword == "msgctxt":
                entry.msgctxt = ""
            elif keyword == "msgid_plural":
                entry.msgid_plural = ""
        assert target is not None, f"{path}: text before any keyword: {line!r}"
        name, index = target
        if name == "msgstr":
            entry.msgstr[index] += value
        else:
            setattr(entry, name, (getattr(entry, name) or "") + value)
    flush()
    return entries


def messages(path: Path) -> list[Entry]:
    return [e for e in read_po(path) if e.msgid]


def header(path: Path) -> dict[str, str]:
    (head,) = [e for e in read_po(path) if not e.msgid and e.msgctxt is None]
    assert "fuzzy" not in head.flags, f"{path}: the header is marked fuzzy, so msgfmt would drop it"
    return dict(line.split(": ", 1) for line in head.msgstr[0].splitlines() if line)


def placeholders(text: str) -> set[str]:
    return {m.group(0) for m in PLACEHOLDER.finditer(text)}


def label(e: Entry) -> str:
    return f"{e.msgctxt}|{e.msgid}" if e.msgctxt else e.msgid


def test_the_chinese_catalogue_has_about_as_many_messages_as_the_english_one():
    zh, en = messages(ZH_PO), messages(EN_PO)
    assert len(zh) > 300
    assert {e.key for e in zh} == {e.key for e in en}, "run makemessages for both languages together"


def test_every_message_in_the_chinese_catalogue_has_a_translation_and_none_is_fuzzy():
    untranslated = [label(e) for e in messages(ZH_PO) if not all(e.msgstr.values()) or not e.msgstr]
    fuzzy = [label(e) for e in messages(ZH_PO) if "fuzzy" in e.flags]
    assert untranslated == []
    assert fuzzy == []


def test_plural_messages_have_exactly_one_chinese_form():
    plurals = [e for e in messages(ZH_PO) if e.msgid_plural is not None]
    assert plurals
    assert {label(e): sorted(e.msgstr) for e in plurals} == {label(e): [0] for e in plurals}


def test_every_translation_keeps_the_placeholders_of_its_message():
    wrong = {}
    for e in messages(ZH_PO):
        expected = placeholders(e.msgid) | placeholders(e.msgid_plural or "")
        for i, text in e.msgstr.items():
            if placeholders(text) != expected:
                wrong[f"{label(e)} [{i}]"] = (sorted(expected), sorted(placeholders(text)))
    assert wrong == {}


def test_names_marked_keep_as_is_are_not_translated():
    kept = [e for e in messages(ZH_PO) if e.msgctxt and "keep as is" in e.msgctxt]
    assert kept
    assert [e.msgstr[0] for e in kept] == [e.msgid for e in kept]


def test_both_catalogues_declare_their_language_utf8_and_their_plural_forms():
    zh, en = header(ZH_PO), header(EN_PO)
    assert zh["Language"] == "zh_Hans"
    assert zh["Plural-Forms"] == "nplurals=1; plural=0;"
    assert en["Language"] == "en"
    assert en["Plural-Forms"] == "nplurals=2; plural=(n != 1);"
    for h in (zh, en):
        assert h["Content-Type"] == "text/plain; charset=UTF-8"


def test_english_is_the_source_language_so_its_catalogue_stays_empty():
    assert [label(e) for e in messages(EN_PO) if any(e.msgstr.values())] == []


@pytest.mark.parametrize("po", [ZH_PO, EN_PO], ids=["zh_Hans", "en"])
def test_the_committed_mo_file_is_compiled_from_the_current_po_file(po):
    with po.with_suffix(".mo").open("rb") as f:
        compiled = gettext.GNUTranslations(f)._catalog  # type: ignore[attr-defined]
    expected: dict[object, str] = {}
    for e in read_po(po):
        if "fuzzy" in e.flags and e.msgid:
            continue
        if e.msgid_plural is not None:
            if all(e.msgstr.values()):
                expected |= {(e.key, i): text for i, text in e.msgstr.items()}
        elif e.msgstr[0]:
            expected[e.key] = e.msgstr[0]
    # msgfmt leaves the POT-Creation-Date out of the compiled header.
    expected[""] = re.sub(r"^POT-Creation-Date: .*\n", "", expected[""], flags=re.M)
    assert compiled == expected, "run `cd src/manyi && uv run manyi manage compilemessages`"


@pytest.mark.skipif(shutil.which("msgfmt") is None, reason="needs GNU gettext's msgfmt")
@pytest.mark.parametrize("po", [ZH_PO, EN_PO], ids=["zh_Hans", "en"])
def test_msgfmt_finds_nothing_wrong_with_the_po_file(po):
    out = subprocess.run(
        ["msgfmt", "--check", "-o", "/dev/null", str(po)], capture_output=True, text=True, timeout=60
    )
    assert (out.returncode, out.stderr) == (0, "")


def test_a_chinese_page_gets_its_interface_texts_in_chinese():
    with translation.override("zh-hans"):
        assert translation.gettext("Submit") != "Submit"
        assert CJK.search(translation.gettext("Submit"))
        assert translation.ngettext("%(s)s second", "%(s)s seconds", 5) % {"s": 5} == "5 秒"
        assert translation.pgettext("product name, keep as is", "满意 Manyi") == "满意 Manyi"
    with translation.override("en"):
        assert translation.gettext("Submit") == "Submit"
        assert translation.ngettext("%(s)s second", "%(s)s seconds", 1) % {"s": 1} == "1 second"
