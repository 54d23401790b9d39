"""Forms of the survey builder: each turns posted fields into a piece of a survey definition.

Texts are edited side by side in Chinese (``*_zh``) and English (``*_en``). Options and matrix rows
are written one per line as ``code | 中文 | English``; a line that does not fit says which line and why.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.validators import RegexValidator
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from manyi.org.models import OrgUnit
from manyi.surveys.blueprints import BLUEPRINTS
from manyi.surveys.choices import QuestionType
from manyi.surveys.questions import CODE_RE, SCALE_TYPES, scale_of

LANGS = (("zh-hans", "zh"), ("en", "en"))
OPS = (
    ("eq", _("is")),
    ("ne", _("is not")),
    ("lte", _("is at most")),
    ("gte", _("is at least")),
)
RATING_MAXES = ((5, "1–5"), (7, "1–7"), (10, "1–10"))
CHOICE_TYPES = (QuestionType.SINGLE, QuestionType.MULTI)
#: Types whose scale ends can carry a label (the fixed CSAT scale labels each point instead).
END_LABEL_TYPES = (
    QuestionType.NPS,
    QuestionType.CES,
    QuestionType.RATING,
    QuestionType.MATRIX,
    QuestionType.SERVQUAL,
)
code_validator = RegexValidator(
    CODE_RE, _("Use lowercase letters, digits and _ (starting with a letter), at most 48 characters.")
)


class UnitChoiceField(forms.ModelChoiceField):
    """Org units by their name in the page's language, indented by depth when ``indent``."""

    lang = "zh-hans"
    indent = False

    def label_from_instance(self, obj: Any) -> str:
        return ("\u2003" * max(0, obj.depth) if self.indent else "") + obj.display_name(self.lang)


def pair(content: Any) -> dict[str, str]:
    """``{"zh-hans": …, "en": …}`` from stored text (a dict or a plain string)."""
    if isinstance(content, dict):
        return {lang: str(content.get(lang, "")) for lang, _s in LANGS}
    return {lang: str(content or "") for lang, _s in LANGS}


def _text(zh: str, en: str) -> dict[str, str]:
    return {k: v.strip() for k, v in (("zh-hans", zh), ("en", en)) if v and v.strip()}


def bilingual_initial(prefix: str, content: Any) -> dict[str, str]:
    p = pair(content)
    return {f"{prefix}_zh": p["zh-hans"], f"{prefix}_en": p["en"]}


class SurveyCreateForm(forms.Form):
    """A new survey: its address (slug), owner unit, name in both languages, and a starting template."""

    slug = forms.SlugField(
        label=_("Address name (slug)"),
        max_length=80,
        help_text=_("Lowercase letters, digits and hyphens; used in exports and the API."),
    )
    unit = UnitChoiceField(label=_("Owner unit"), queryset=OrgUnit.objects.none(), empty_label=None)
    name_zh = forms.CharField(label=_("Name (Chinese)"), max_length=200)
    name_en = forms.CharField(label=_("Name (English)"), max_length=200)
    template = forms.ChoiceField(label=_("Start from"), required=False)

    def __init__(self, *args: Any, units: Any, lang: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        unit_field = self.fields["unit"]
        assert isinstance(unit_field, UnitChoiceField)
        unit_field.queryset = units
        unit_field.lang, unit_field.indent = lang, True
        template_field = self.fields["template"]
        assert isinstance(template_field, forms.ChoiceField)
        template_field.choices = [("", gettext("A blank survey"))] + [
            (key, pair(bp["name"])["zh-hans" if lang == "zh-hans" else "en"])
            for key, bp in BLUEPRINTS.items()
        ]

    def clean_slug(self) -> str:
        from manyi.surveys.models import Survey

        slug = self.cleaned_data["slug"]
        if Survey.objects.filter(slug=slug).exists():
            raise forms.ValidationError(
                gettext("A survey with the address name “{slug}” exists.").format(slug=slug)
            )
        return slug


class SurveyTextsForm(forms.Form):
    """The survey's name, title, introduction and thank-you text, in both languages, and its languages."""

    name_zh = forms.CharField(label=_("Name (Chinese)"), max_length=200, required=False)
    name_en = forms.CharField(label=_("Name (English)"), max_length=200, required=False)
    title_zh = forms.CharField(label=_("Title (Chinese)"), max_length=300, required=False)
    title_en = forms.CharField(label=_("Title (English)"), max_length=300, required=False)
    intro_zh = forms.CharField(
        label=_("Introduction (Chinese)"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    intro_en = forms.CharField(
        label=_("Introduction (English)"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    thanks_zh = forms.CharField(label=_("Thank-you text (Chinese)"), max_length=500, required=False)
    thanks_en = forms.CharField(label=_("Thank-you text (English)"), max_length=500, required=False)
    languages = forms.MultipleChoiceField(
        label=_("Asked in"),
        choices=(("zh-hans", "简体中文"), ("en", "English")),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one language.")},
    )

    def name(self) -> dict[str, str]:
        d = self.cleaned_data
        return _text(d["name_zh"], d["name_en"])

    def apply(self, definition: dict[str, Any]) -> dict[str, Any]:
        d = self.cleaned_data
        for key in ("title", "intro", "thanks"):
            definition[key] = _text(d[f"{key}_zh"], d[f"{key}_en"])
        return definition


class AddQuestionForm(forms.Form):
    type = forms.ChoiceField(label=_("Question type"), choices=QuestionType.choices)


def new_question(qtype: str, existing: list[dict[str, Any]]) -> dict[str, Any]:
    """A question of ``qtype`` with a free code and the settings its type needs; texts still to write."""
    codes = {q.get("code") for q in existing}
    code = qtype if qtype in ("nps", "csat", "ces") else ""
    n = len(existing)
    while not code or code in codes:
        n += 1
        code = f"q{n}"
    q: dict[str, Any] = {"code": code, "type": qtype, "required": False, "label": {}}
    if qtype == QuestionType.RATING:
        q["scale"] = {"min": 1, "max": 5}
    elif qtype == QuestionType.MATRIX:
        q["scale"] = {"min": 1, "max": 5}
        q["rows"] = [{"code": "row1", "label": {}}]
    elif qtype == QuestionType.SERVQUAL:
        q["scale"] = {"min": 1, "max": 7}
    elif qtype in CHOICE_TYPES:
        q["options"] = [{"code": "a", "label": {}}, {"code": "b", "label": {}}]
    return q


def _lines_initial(items: list[dict[str, Any]]) -> str:
    out = []
    for item in items:
        p = pair(item.get("label"))
        out.append(f"{item.get('code', '')} | {p['zh-hans']} | {p['en']}")
    return "\n".join(out)


def parse_lines(raw: str, what: str) -> tuple[list[dict[str, Any]], list[str]]:
    """``code | 中文 | English`` lines into ``[{"code", "label"}]``, with one message per bad line."""
    items: list[dict[str, Any]] = []
    errors: list[str] = []
    seen: set[str] = set()
    for n, line in enumerate(raw.splitlines(), start=1):
        if not line.strip():
            continue
        parts = [p.strip() for p in line.split("|")]
        if len(parts) != 3:
            errors.append(
                gettext("{what}, line {n}: write “code | 中文 | English”, got “{line}”.").format(
                    what=what, n=n, line=line.strip()[:80]
                )
            )
            continue
        code, zh, en = parts
        if not CODE_RE.match(code):
            errors.append(
                gettext(
                    "{what}, line {n}: the code “{code}” must be lowercase letters, digits and _."
                ).format(what=what, n=n, code=code[:40])
            )
            continue
        if code in seen:
            errors.append(
                gettext("{what}, line {n}: the code “{code}” is used twice.").format(
                    what=what, n=n, code=code
                )
            )
            continue
        seen.add(code)
        items.append({"code": code, "label": _text(zh, en)})
    return items, errors


class QuestionForm(forms.Form):
    """One question. Which fields count depends on its type (``question["type"]``)."""

    code = forms.CharField(label=_("Code"), max_length=48, validators=[code_validator])
    required = forms.BooleanField(label=_("An answer is required"), required=False)
    label_zh = forms.CharField(label=_("Question (Chinese)"), max_length=500, required=False)
    label_en = forms.CharField(label=_("Question (English)"), max_length=500, required=False)
    help_zh = forms.CharField(label=_("Help text (Chinese)"), max_length=500, required=False)
    help_en = forms.CharField(label=_("Help text (English)"), max_length=500, required=False)
    scale_max = forms.TypedChoiceField(label=_("Scale"), choices=RATING_MAXES, coerce=int, required=False)
    min_label_zh = forms.CharField(label=_("Low end (Chinese)"), max_length=100, required=False)
    min_label_en = forms.CharField(label=_("Low end (English)"), max_length=100, required=False)
    max_label_zh = forms.CharField(label=_("High end (Chinese)"), max_length=100, required=False)
    max_label_en = forms.CharField(label=_("High end (English)"), max_length=100, required=False)
    options = forms.CharField(
        label=_("Options, one per line: code | 中文 | English"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    rows = forms.CharField(
        label=_("Rows, one per line: code | 中文 | English"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    allow_other = forms.BooleanField(label=_("Offer “other”, with a text box"), required=False)
    show_if_question = forms.ChoiceField(label=_("Show only if the answer to"), required=False)
    show_if_op = forms.ChoiceField(label=_("Condition"), choices=OPS, required=False)
    show_if_value = forms.CharField(label=_("Value"), max_length=48, required=False)

    def __init__(
        self,
        *args: Any,
        question: dict[str, Any],
        earlier: list[dict[str, Any]],
        lang: str,
        taken_codes: set[str],
        **kwargs: Any,
    ) -> None:
        self.question = question
        self.earlier = earlier
        self.taken_codes = taken_codes
        if not args and "data" not in kwargs:
            kwargs.setdefault("initial", self.initial_from(question))
        kwargs.setdefault("prefix", f"q-{question['code']}")
        super().__init__(*args, **kwargs)
        show_if = self.fields["show_if_question"]
        assert isinstance(show_if, forms.ChoiceField)
        show_if.choices = [("", gettext("(always shown)"))] + [
            (
                q["code"],
                f"{q['code']} · {pair(q.get('label'))['zh-hans' if lang == 'zh-hans' else 'en'][:40]}",
            )
            for q in earlier
        ]

    @staticmethod
    def initial_from(q: dict[str, Any]) -> dict[str, Any]:
        scale = q.get("scale") or {}
        cond = q.get("show_if") or {}
        initial: dict[str, Any] = {
            "code": q["code"],
            "required": bool(q.get("required")),
            **bilingual_initial("label", q.get("label")),
            **bilingual_initial("help", q.get("help")),
            **bilingual_initial("min_label", scale.get("min_label")),
            **bilingual_initial("max_label", scale.get("max_label")),
            "scale_max": scale_of(q)[1] if q["type"] in (QuestionType.RATING, QuestionType.MATRIX) else None,
            "options": _lines_initial(q.get("options") or []),
            "rows": _lines_initial(q.get("rows") or []),
            "allow_other": bool(q.get("allow_other")),
            "show_if_question": cond.get("question", ""),
            "show_if_op": cond.get("op", "lte"),
            "show_if_value": "" if cond.get("value") is None else str(cond.get("value")),
        }
        return initial

    @property
    def labels(self) -> dict[str, str]:
        """The stored question text, for the summary line."""
        p = pair(self.question.get("label"))
        return {"zh": p["zh-hans"], "en": p["en"]}

    # Which optional parts this type shows; the template reads these.
    @property
    def qtype(self) -> str:
        return str(self.question["type"])

    @property
    def has_scale_max(self) -> bool:
        return self.qtype in (QuestionType.RATING, QuestionType.MATRIX)

    @property
    def has_end_labels(self) -> bool:
        return self.qtype in END_LABEL_TYPES

    @property
    def has_options(self) -> bool:
        return self.qtype in CHOICE_TYPES

    @property
    def has_rows(self) -> bool:
        return self.qtype == QuestionType.MATRIX

    def clean_code(self) -> str:
        code = self.cleaned_data["code"]
        if code != self.question["code"] and code in self.taken_codes:
            raise forms.ValidationError(
                gettext("Another question already has the code “{code}”.").format(code=code)
            )
        return code

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.has_options:
            items, errors = parse_lines(data.get("options", ""), gettext("Options"))
            for e in errors:
                self.add_error("options", e)
            if not errors and len(items) < 2:
                self.add_error("options", gettext("A choice needs at least two options."))
            data["option_items"] = items
        if self.has_rows:
            items, errors = parse_lines(data.get("rows", ""), gettext("Rows"))
            for e in errors:
                self.add_error("rows", e)
            if not errors and not items:
                self.add_error("rows", gettext("A matrix needs at least one row."))
            data["row_items"] = items
        target = data.get("show_if_question") or ""
        if target:
            raw = (data.get("show_if_value") or "").strip()
            earlier = next((q for q in self.earlier if q["code"] == target), None)
            if earlier is None:
                self.add_error(
                    "show_if_question", gettext("Display logic must refer to an earlier question.")
                )
            elif not raw:
                self.add_error("show_if_value", gettext("Say which answer shows this question."))
            else:
                data["show_if"] = {
                    "question": target,
                    "op": data.get("show_if_op") or "eq",
                    "value": self._condition_value(earlier, raw),
                }
        return data

    def _condition_value(self, earlier: dict[str, Any], raw: str) -> Any:
        """A number for scored questions (checked against their scale), an option code for choices."""
        if earlier["type"] in SCALE_TYPES:
            lo, hi = scale_of(earlier)
            try:
                value = int(raw)
            except ValueError:
                value = None
            if value is None or not lo <= value <= hi:
                self.add_error(
                    "show_if_value",
                    gettext("“{q}” is answered with a whole number from {lo} to {hi}; got “{v}”.").format(
                        q=earlier["code"], lo=lo, hi=hi, v=raw
                    ),
                )
            return value
        if earlier["type"] in CHOICE_TYPES:
            codes = [o["code"] for o in earlier.get("options", [])] + (
                ["other"] if earlier.get("allow_other") else []
            )
            if raw not in codes:
                self.add_error(
                    "show_if_value",
                    gettext("“{q}” has the options {codes}; got “{v}”.").format(
                        q=earlier["code"], codes=", ".join(codes), v=raw
                    ),
                )
            return raw
        if earlier["type"] == QuestionType.CONSENT:
            if raw not in ("yes", "no"):
                self.add_error("show_if_value", gettext("A consent question is answered yes or no."))
            return raw == "yes"
        self.add_error(
            "show_if_value",
            gettext("Only scored, choice and consent questions can show or hide another question."),
        )
        return raw

    def to_question(self) -> dict[str, Any]:
        """The question as stored in the definition; settings this form does not edit are kept."""
        d = self.cleaned_data
        q = dict(self.question)
        q["code"] = d["code"]
        q["required"] = bool(d.get("required"))
        q["label"] = _text(d["label_zh"], d["label_en"])
        help_text = _text(d["help_zh"], d["help_en"])
        if help_text:
            q["help"] = help_text
        else:
            q.pop("help", None)
        if self.has_end_labels:
            scale = dict(q.get("scale") or {})
            for end in ("min_label", "max_label"):
                value = _text(d[f"{end}_zh"], d[f"{end}_en"])
                if value:
                    scale[end] = value
                else:
                    scale.pop(end, None)
            if self.has_scale_max and d.get("scale_max"):
                scale["min"], scale["max"] = 1, int(d["scale_max"])
            if scale:
                q["scale"] = scale
        if self.has_options:
            q["options"] = d["option_items"]
            q["allow_other"] = bool(d.get("allow_other"))
        if self.has_rows:
            q["rows"] = d["row_items"]
        if d.get("show_if"):
            q["show_if"] = d["show_if"]
        else:
            q.pop("show_if", None)
        return q


class LinkBatchForm(forms.Form):
    """A batch of single-use links: for customers listed by external id, or a number of anonymous ones."""

    unit = UnitChoiceField(label=_("Answers count for"), queryset=OrgUnit.objects.none(), empty_label=None)
    customers = forms.CharField(
        label=_("Customers' external ids, one per line (leave empty for anonymous links)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    count = forms.IntegerField(
        label=_("Number of anonymous links"), min_value=1, max_value=10_000, required=False
    )
    language = forms.ChoiceField(
        label=_("Language"),
        required=False,
        choices=(("", _("The respondent's choice")), ("zh-hans", "简体中文"), ("en", "English")),
    )
    expires_days = forms.IntegerField(label=_("Valid for (days)"), min_value=1, max_value=365, required=False)

    def __init__(self, *args: Any, units: Any, lang: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        unit_field = self.fields["unit"]
        assert isinstance(unit_field, UnitChoiceField)
        unit_field.queryset = units
        unit_field.lang = lang

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        ids = [line.strip() for line in (data.get("customers") or "").splitlines() if line.strip()]
        if len(ids) > 10_000:
            self.add_error(
                "customers", gettext("At most 10,000 customers per batch; got {n}.").format(n=len(ids))
            )
        if ids and data.get("count"):
            self.add_error(
                "count", gettext("Give either customers or a number of anonymous links, not both.")
            )
        if not ids and not data.get("count") and not self.errors:
            self.add_error(
                "count", gettext("Give the customers' external ids or a number of anonymous links.")
            )
        data["customer_ids"] = ids
        return data
