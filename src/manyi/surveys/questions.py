"""What each question type accepts, and how answers are read from a form and stored.

A version's ``definition["questions"]`` is a list of dictionaries::

    {"code": "nps", "type": "nps", "required": True,
     "label": {"zh-hans": "…", "en": "…"}, "help": {...},
     "scale": {"min": 0, "max": 10, "min_label": {...}, "max_label": {...}, "labels": [{...}, …]},
     "rows": [{"code": "tangibles", "label": {...}}],           # matrix
     "options": [{"code": "price", "label": {...}}], "allow_other": True,   # single / multi
     "show_if": {"question": "nps", "op": "lte", "value": 6}}   # display logic

Form fields are ``q_<code>``, ``q_<code>__<row>`` (matrix rows), ``q_<code>__expectation`` and
``q_<code>__perception`` (SERVQUAL) and ``q_<code>__other`` (the "other" text of a choice).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from manyi.core.i18ntext import missing_languages

from .choices import QuestionType

TEXT_MAX = 2000
CODE_RE = re.compile(r"^[a-z][a-z0-9_]{0,47}$")
OTHER = "other"

FIXED_SCALES: dict[str, tuple[int, int]] = {
    QuestionType.NPS: (0, 10),
    QuestionType.CSAT: (1, 5),
    QuestionType.CES: (1, 7),
}
ALLOWED_RATING_MAX = (5, 7, 10)
SERVQUAL_PARTS = ("expectation", "perception")
SCALE_TYPES = {QuestionType.NPS, QuestionType.CSAT, QuestionType.CES, QuestionType.RATING}


def scale_of(q: Mapping[str, Any]) -> tuple[int, int]:
    """(min, max) of a scored question; matrices and SERVQUAL pairs use their ``scale``."""
    if q["type"] in FIXED_SCALES:
        return FIXED_SCALES[q["type"]]
    scale = q.get("scale") or {}
    default_max = 7 if q["type"] == QuestionType.SERVQUAL else 5
    return int(scale.get("min", 1)), int(scale.get("max", default_max))


# --- definitions -------------------------------------------------------------------------------------


def definition_errors(definition: Mapping[str, Any], languages: list[str]) -> list[str]:
    """Everything wrong with a definition that would stop it from being published."""
    errors: list[str] = []
    questions = definition.get("questions") or []
    if not questions:
        errors.append(_("A survey needs at least one question."))
    for key in ("title", "thanks"):
        for lang in missing_languages(definition.get(key), languages):
            errors.append(_("The survey {part} has no text in {lang}.").format(part=key, lang=lang))
    seen: set[str] = set()
    valid_types = set(QuestionType.values)
    for i, q in enumerate(questions, start=1):
        code = str(q.get("code", ""))
        where = _("Question {n} ({code})").format(n=i, code=code or "?")
        if not CODE_RE.match(code):
            errors.append(_("{where}: the code must be lowercase letters, digits and _.").format(where=where))
        if code in seen:
            errors.append(_("{where}: the code is used twice.").format(where=where))
        seen.add(code)
        if q.get("type") not in valid_types:
            errors.append(_("{where}: unknown type {type}.").format(where=where, type=q.get("type")))
            continue
        for lang in missing_languages(q.get("label"), languages):
            errors.append(_("{where}: the label has no text in {lang}.").format(where=where, lang=lang))
        qtype = q["type"]
        if qtype in (QuestionType.RATING, QuestionType.MATRIX):
            lo, hi = scale_of(q)
            if lo != 1 or hi not in ALLOWED_RATING_MAX:
                errors.append(_("{where}: a rating scale runs 1–5, 1–7 or 1–10.").format(where=where))
        if qtype == QuestionType.MATRIX:
            rows = q.get("rows") or []
            if not rows:
                errors.append(_("{where}: a matrix needs at least one row.").format(where=where))
            for row in rows:
                for lang in missing_languages(row.get("label"), languages):
                    errors.append(
                        _("{where}: row {row} has no text in {lang}.").format(
                            where=where, row=row.get("code"), lang=lang
                        )
                    )
        if qtype in (QuestionType.SINGLE, QuestionType.MULTI):
            options = q.get("options") or []
            if len(options) < 2:
                errors.append(_("{where}: a choice needs at least two options.").format(where=where))
            for opt in options:
                for lang in missing_languages(opt.get("label"), languages):
                    errors.append(
                        _("{where}: option {opt} has no text in {lang}.").format(
                            where=where, opt=opt.get("code"), lang=lang
                        )
                    )
        cond = q.get("show_if")
        if cond and cond.get("question") not in seen - {code}:
            errors.append(_("{where}: display logic must refer to an earlier question.").format(where=where))
    return errors


def is_visible(q: Mapping[str, Any], values: Mapping[str, Any]) -> bool:
    """Evaluate display logic against the answers given so far."""
    cond = q.get("show_if")
    if not cond:
        return True
    got = values.get(cond.get("question"))
    if got is None:
        return False
    op, want = cond.get("op", "eq"), cond.get("value")
    try:
        if op == "eq":
            return bool(got == want)
        if op == "ne":
            return bool(got != want)
        if op == "lte":
            return bool(got <= want)
        if op == "gte":
            return bool(got >= want)
        if op == "in":
            return bool(got in want) if not isinstance(got, list) else bool(set(got) & set(want))
    except TypeError:
        return False
    return False


# --- answers -------------------------------------------------------------------------------------------


@dataclass
class Parsed:
    """Cleaned answers, per-question errors, and the raw text to re-display when something is wrong."""

    values: dict[str, Any]
    errors: dict[str, str]
    raw: dict[str, Any]


def _int_in(raw: str, lo: int, hi: int) -> int | None:
    try:
        v = int(raw.strip())
    except (TypeError, ValueError):
        return None
    return v if lo <= v <= hi else None


def parse_answers(questions: list[dict[str, Any]], data: Any, *, partial: bool = False) -> Parsed:
    """Read answers from form data (a QueryDict or a dict of lists).

    ``partial`` is for saving a draft: required answers may be missing and invalid ones are skipped.
    """

    def get(name: str) -> str:
        v = data.get(name, "")
        return v if isinstance(v, str) else str(v)

    def getlist(name: str) -> list[str]:
        if hasattr(data, "getlist"):
            return [str(x) for x in data.getlist(name)]
        v = data.get(name, [])
        return [str(x) for x in (v if isinstance(v, list) else [v])]

    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    raw: dict[str, Any] = {}
    for q in questions:
        code, qtype, name = q["code"], q["type"], f"q_{q['code']}"
        value: Any = None
        err: str | None = None
        if qtype in SCALE_TYPES:
            lo, hi = scale_of(q)
            text = get(name)
            raw[name] = text
            if text.strip():
                value = _int_in(text, lo, hi)
                if value is None:
                    err = _("Choose a whole number from {lo} to {hi}.").format(lo=lo, hi=hi)
        elif qtype in (QuestionType.MATRIX, QuestionType.SERVQUAL):
            lo, hi = scale_of(q)
            parts = (
                [r["code"] for r in q.get("rows", [])]
                if qtype == QuestionType.MATRIX
                else list(SERVQUAL_PARTS)
            )
            got: dict[str, int] = {}
            for part in parts:
                text = get(f"{name}__{part}")
                raw[f"{name}__{part}"] = text
                if text.strip():
                    v = _int_in(text, lo, hi)
                    if v is None:
                        err = _("Each rating must be a whole number from {lo} to {hi}.").format(lo=lo, hi=hi)
                    else:
                        got[part] = v
            if got:
                value = got
                if len(got) < len(parts) and q.get("required") and not partial and not err:
                    err = _("Please rate every line.")
        elif qtype == QuestionType.SINGLE:
            text = get(name).strip()
            raw[name] = text
            codes = {o["code"] for o in q.get("options", [])}
            if q.get("allow_other"):
                codes.add(OTHER)
            if text:
                if text in codes:
                    value = text
                else:
                    err = _("Choose one of the listed options.")
        elif qtype == QuestionType.MULTI:
            chosen = [c.strip() for c in getlist(name) if c.strip()]
            raw[name] = chosen
            codes = {o["code"] for o in q.get("options", [])}
            if q.get("allow_other"):
                codes.add(OTHER)
            unknown = [c for c in chosen if c not in codes]
            if unknown:
                err = _("Choose only from the listed options.")
            elif chosen:
                value = sorted(set(chosen), key=chosen.index)
        elif qtype == QuestionType.TEXT:
            text = get(name)
            raw[name] = text
            if text.strip():
                if len(text) > TEXT_MAX:
                    err = _("Please keep this under {n} characters.").format(n=TEXT_MAX)
                else:
                    value = text.strip()
        elif qtype == QuestionType.CONSENT:
            text = get(name).strip().lower()
            raw[name] = text
            if text in ("yes", "1", "true", "on"):
                value = True
            elif text in ("no", "0", "false"):
                value = False
            elif text:
                err = _("Answer yes or no.")
        if qtype in (QuestionType.SINGLE, QuestionType.MULTI) and q.get("allow_other"):
            other = get(f"{name}__other")
            raw[f"{name}__other"] = other
            picked = value == OTHER or (isinstance(value, list) and OTHER in value)
            if picked:
                if other.strip() and len(other) <= TEXT_MAX:
                    values[f"{code}__other"] = other.strip()
                elif not partial:
                    err = err or _("Please say what “other” is.")
        if value is not None and not err:
            values[code] = value
        elif err and not partial:
            errors[code] = err
    # Required answers, and answers to hidden questions, are judged once everything is read.
    for q in questions:
        code = q["code"]
        if not is_visible(q, values):
            values.pop(code, None)
            values.pop(f"{code}__other", None)
            errors.pop(code, None)
            continue
        if not partial and q.get("required") and code not in values and code not in errors:
            errors[code] = _("This question needs an answer.")
    return Parsed(values=values, errors=errors, raw=raw)


@dataclass(frozen=True)
class AnswerRow:
    question_code: str
    number: float | None = None
    text: str = ""
    choices: list[str] | None = None


def answer_rows(questions: list[dict[str, Any]], values: Mapping[str, Any]) -> list[AnswerRow]:
    """Flatten cleaned values into the rows stored in the Answer table."""
    rows: list[AnswerRow] = []
    for q in questions:
        code, qtype = q["code"], q["type"]
        if code not in values:
            continue
        v = values[code]
        if qtype in SCALE_TYPES:
            rows.append(AnswerRow(code, number=float(v)))
        elif qtype in (QuestionType.MATRIX, QuestionType.SERVQUAL):
            rows.extend(AnswerRow(f"{code}.{part}", number=float(n)) for part, n in v.items())
        elif qtype == QuestionType.SINGLE:
            rows.append(AnswerRow(code, text=v))
        elif qtype == QuestionType.MULTI:
            rows.append(AnswerRow(code, choices=list(v)))
        elif qtype == QuestionType.TEXT:
            rows.append(AnswerRow(code, text=v))
        elif qtype == QuestionType.CONSENT:
            rows.append(AnswerRow(code, number=1.0 if v else 0.0))
        if f"{code}__other" in values:
            rows.append(AnswerRow(f"{code}.other", text=values[f"{code}__other"]))
    return rows


def headline_scores(questions: list[dict[str, Any]], values: Mapping[str, Any]) -> dict[str, Any]:
    """The first NPS, CSAT and CES answers and the first open text, copied onto the response."""
    out: dict[str, Any] = {"nps": None, "csat": None, "ces": None, "comment": ""}
    for q in questions:
        code, qtype = q["code"], q["type"]
        if code not in values:
            continue
        if qtype in ("nps", "csat", "ces") and out[qtype] is None:
            out[qtype] = values[code]
        elif qtype == QuestionType.TEXT and not out["comment"]:
            out["comment"] = values[code]
    return out
