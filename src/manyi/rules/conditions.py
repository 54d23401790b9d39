"""A rule's condition tree and actions: the JSON schema (pydantic), its errors, and evaluation.

A condition is a group or a leaf::

    {"all": [c, …]}   {"any": [c, …]}   {"not": c}
    {"field": "nps", "op": "<=", "value": 6}                  # nps, csat, ces, rating
    {"field": "answer", "question": "csi.tangibles", "op": "<=", "value": 2}
    {"field": "text", "op": "contains", "value": "退款"}
    {"field": "text.flags", "op": "any", "value": ["anger", "legal"]}
    {"field": "text.aspect", "value": "wait_time", "sentiment": "negative"}
    {"field": "text.sentiment", "op": "=", "value": "negative"}   # or "<=" a score in [−1, 1]
    {"field": "customer.tier", "op": "in", "value": ["gold", "platinum"]}
    {"field": "unit", "op": "within", "value": ["sh-001"]}      # the unit or its subtree
    {"field": "channel", "op": "in", "value": ["phone", "web_form"]}
    {"field": "category", "op": "in", "value": ["food_safety"]}
    {"field": "severity", "op": ">=", "value": "high"}
    {"field": "source", "op": "=", "value": "feedback"}

Validation takes a *context* with the values the organisation knows (unit codes, tiers, channels,
SLA policy ids, user names), so a rule naming a store that does not exist is refused on save with
the path to the bad value and the reason. Text conditions are evaluated on the text analysis of
the comment: the reading ``manyi.enrichment`` stored for it when there is one of the current model
version (so rules agree with the analytics), else ``manyi.textanalytics`` run once per source and
only when a rule reaches one.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

# --- the facts a condition is evaluated on ---------------------------------------------------------


@dataclass(slots=True)
class Facts:
    """What a rule can see of one response or feedback record."""

    kind: str  # "response" | "feedback"
    source_id: int
    unit_id: int
    unit_codes: frozenset[str]  # the source's unit and every unit above it
    channel: str = ""
    nps: float | None = None
    csat: float | None = None
    ces: float | None = None
    rating: float | None = None
    text: str = ""
    customer_tier: str = ""
    category: str = ""
    severity: str = ""
    answers: Mapping[str, Any] = field(default_factory=dict)
    # Filled on first use by a text condition (see ``analysis``).
    _analysis: Any = None

    def analysis(self) -> Any:
        if self._analysis is None:
            self._analysis = analyze_text(self.text)
        return self._analysis


def _text_models() -> Any:
    """The shipped text models, loaded once per process and shared with the enrichment task, so a
    rule reads a text exactly as the stored enrichment (and the charts) do."""
    from manyi.enrichment.actions import analyzer

    return analyzer()


def analyze_text(text: str) -> Any:
    """The shipped text models' analysis of a comment."""
    return _text_models().analyze(text)


def analysis_version() -> str:
    """The version of the shipped text models; a stored reading of another version is not used."""
    from manyi.enrichment.actions import current_version

    return current_version()


@dataclass(frozen=True, slots=True)
class StoredFlag:
    flag: str


@dataclass(frozen=True, slots=True)
class StoredAspect:
    aspect: str
    sentiment: str


@dataclass(frozen=True, slots=True)
class StoredSentiment:
    label: str
    score: float


@dataclass(frozen=True, slots=True)
class StoredAnalysis:
    """A reading the enrichment already stored, in the shape text conditions read: the same flags,
    aspects and sentiment the analytics show, so a rule and a chart never disagree about a text."""

    sentiment: StoredSentiment
    flags: tuple[StoredFlag, ...] = ()
    aspects: tuple[StoredAspect, ...] = ()

    @classmethod
    def of(
        cls, label: str, score: float, flags: Sequence[Mapping[str, Any]], aspects: Sequence[tuple[str, str]]
    ) -> StoredAnalysis:
        return cls(
            sentiment=StoredSentiment(label, float(score)),
            flags=tuple(StoredFlag(str(f.get("flag", ""))) for f in flags or ()),
            aspects=tuple(StoredAspect(a, s) for a, s in aspects),
        )


# --- schema ---------------------------------------------------------------------------------------

NUM_OPS = ("=", "!=", "<", "<=", ">", ">=")
SET_OPS = ("in", "not_in")
SEVERITY_ORDER = ("low", "medium", "high", "critical")
SENTIMENTS = ("negative", "neutral", "positive")
SCORE_RANGES = {"nps": (0, 10), "csat": (1, 5), "ces": (1, 7), "rating": (0, 10)}
# Rough cost of a leaf, so `all`/`any` try cheap tests before running the text models.
COST = {"text.flags": 3, "text.aspect": 5, "text.sentiment": 5, "answer": 2, "text": 2}

Strict = ConfigDict(extra="forbid", frozen=True)


def _ctx(info: ValidationInfo, key: str) -> Any:
    return (info.context or {}).get(key)


def _known(values: Sequence[str], known: Any, what: str) -> None:
    if known is None:
        return
    unknown = [v for v in values if v not in known]
    if unknown:
        raise ValueError(
            _("unknown {what} {values}; known: {known}").format(
                what=what, values=", ".join(unknown), known=", ".join(sorted(known)) or "—"
            )
        )


def _compare(actual: Any, op: str, expected: Any) -> bool:
    if actual is None:
        return False
    try:
        if op == "=":
            return bool(actual == expected)
        if op == "!=":
            return bool(actual != expected)
        if op == "<":
            return bool(actual < expected)
        if op == "<=":
            return bool(actual <= expected)
        if op == ">":
            return bool(actual > expected)
        if op == ">=":
            return bool(actual >= expected)
    except TypeError:
        return False
    return False


class ScoreCondition(BaseModel):
    """A headline score: NPS 0–10, CSAT 1–5, CES 1–7, or a feedback record's rating 0–10."""

    model_config = Strict
    field: Literal["nps", "csat", "ces", "rating"]
    op: Literal["=", "!=", "<", "<=", ">", ">="]
    value: float

    @field_validator("value")
    @classmethod
    def _in_range(cls, v: float, info: ValidationInfo) -> float:
        name = info.data.get("field")
        if name in SCORE_RANGES:
            lo, hi = SCORE_RANGES[name]
            if not lo <= v <= hi:
                raise ValueError(
                    _("{field} is on a scale from {lo} to {hi}, got {v}").format(
                        field=name, lo=lo, hi=hi, v=f"{v:g}"
                    )
                )
        return v

    def test(self, f: Facts) -> bool:
        actual = f.rating if self.field == "rating" else getattr(f, self.field)
        return _compare(actual, self.op, self.value)


class AnswerCondition(BaseModel):
    """Any question's answer by its code: numbers compare, choices test membership."""

    model_config = Strict
    field: Literal["answer"]
    question: str = Field(min_length=1, max_length=96)
    op: Literal["=", "!=", "<", "<=", ">", ">=", "in", "not_in", "contains", "answered"]
    value: float | str | list[str] | None = None

    @field_validator("question")
    @classmethod
    def _question_known(cls, v: str, info: ValidationInfo) -> str:
        known = _ctx(info, "questions")
        if known is not None and v not in known:
            raise ValueError(_("no survey asks a question with the code {code}").format(code=v))
        return v

    @model_validator(mode="after")
    def _value_fits_op(self) -> AnswerCondition:
        if self.op in NUM_OPS and not isinstance(self.value, int | float | str):
            raise ValueError(_("op {op} needs a number or a text value").format(op=self.op))
        if self.op in SET_OPS and not isinstance(self.value, list):
            raise ValueError(_("op {op} needs a list of values").format(op=self.op))
        if self.op == "contains" and not isinstance(self.value, str):
            raise ValueError(_("op contains needs a text value"))
        return self

    def test(self, f: Facts) -> bool:
        if self.question not in f.answers:
            return False
        actual = f.answers[self.question]
        if self.op == "answered":
            return actual not in (None, "", [])
        if self.op in SET_OPS:
            chosen = actual if isinstance(actual, list) else [actual]
            wanted = self.value if isinstance(self.value, list) else []
            hit = any(str(c) in wanted for c in chosen)
            return hit if self.op == "in" else not hit
        if self.op == "contains":
            return str(self.value).lower() in str(actual).lower()
        if isinstance(self.value, int | float) and not isinstance(actual, int | float):
            try:
                actual = float(actual)
            except (TypeError, ValueError):
                return False
        return _compare(actual, self.op, self.value)


class TextCondition(BaseModel):
    """The comment's words: contains (any case), or whether there is a comment at all."""

    model_config = Strict
    field: Literal["text"]
    op: Literal["contains", "not_contains", "present", "absent"]
    value: str = ""

    @model_validator(mode="after")
    def _value_needed(self) -> TextCondition:
        if self.op in ("contains", "not_contains") and not self.value.strip():
            raise ValueError(_("op {op} needs the words to look for in value").format(op=self.op))
        return self

    def test(self, f: Facts) -> bool:
        if self.op == "present":
            return bool(f.text.strip())
        if self.op == "absent":
            return not f.text.strip()
        found = self.value.lower() in f.text.lower()
        return found if self.op == "contains" else not found


class FlagCondition(BaseModel):
    """Urgency flags the text models raise: anger, churn, complaint, refund, legal, safety."""

    model_config = Strict
    field: Literal["text.flags"]
    op: Literal["any", "none"] = "any"
    value: list[str] = Field(min_length=1)

    @field_validator("value")
    @classmethod
    def _flags_known(cls, v: list[str], info: ValidationInfo) -> list[str]:
        _known(v, known_flags(), _("flag"))
        return v

    def test(self, f: Facts) -> bool:
        if not f.text:
            return self.op == "none"
        raised = {fl.flag for fl in f.analysis().flags}
        hit = bool(raised.intersection(self.value))
        return hit if self.op == "any" else not hit


class AspectCondition(BaseModel):
    """An aspect mentioned in the text (wait_time, staff_attitude, …), optionally with its sentiment."""

    model_config = Strict
    field: Literal["text.aspect"]
    value: str
    sentiment: Literal["negative", "neutral", "positive"] | None = None

    @field_validator("value")
    @classmethod
    def _aspect_known(cls, v: str, info: ValidationInfo) -> str:
        _known([v], known_aspects(), _("aspect"))
        return v

    def test(self, f: Facts) -> bool:
        if not f.text:
            return False
        return any(
            a.aspect == self.value and (self.sentiment is None or a.sentiment == self.sentiment)
            for a in f.analysis().aspects
        )


class SentimentCondition(BaseModel):
    """The whole comment's sentiment: a label (``=``) or its score in [−1, 1] (``<=``, ``>=``)."""

    model_config = Strict
    field: Literal["text.sentiment"]
    op: Literal["=", "!=", "<=", ">="]
    value: str | float

    @model_validator(mode="after")
    def _value_fits_op(self) -> SentimentCondition:
        if self.op in ("=", "!="):
            if self.value not in SENTIMENTS:
                raise ValueError(
                    _("op {op} compares a label: one of {labels}").format(
                        op=self.op, labels=", ".join(SENTIMENTS)
                    )
                )
        elif isinstance(self.value, str) or not -1 <= self.value <= 1:
            raise ValueError(_("op {op} compares a score from -1 to 1").format(op=self.op))
        return self

    def test(self, f: Facts) -> bool:
        if not f.text:
            return False
        s = f.analysis().sentiment
        if self.op in ("=", "!="):
            return _compare(s.label, self.op, self.value)
        return _compare(s.score, self.op, self.value)


class _SetCondition(BaseModel):
    model_config = Strict
    op: Literal["in", "not_in"] = "in"
    value: list[str] = Field(min_length=1)

    def _hit(self, actual: str) -> bool:
        inside = actual in self.value
        return inside if self.op == "in" else not inside


class TierCondition(_SetCondition):
    """The customer's value tier; a source with no customer is in no tier."""

    field: Literal["customer.tier"]

    @field_validator("value")
    @classmethod
    def _tiers_known(cls, v: list[str], info: ValidationInfo) -> list[str]:
        _known(v, _ctx(info, "tiers"), _("tier"))
        return v

    def test(self, f: Facts) -> bool:
        if not f.customer_tier:
            return self.op == "not_in"
        return self._hit(f.customer_tier)


class UnitCondition(BaseModel):
    """The source's unit is one of these units or lies in their subtrees (by unit code)."""

    model_config = Strict
    field: Literal["unit"]
    op: Literal["within", "not_within"] = "within"
    value: list[str] = Field(min_length=1)

    @field_validator("value")
    @classmethod
    def _units_known(cls, v: list[str], info: ValidationInfo) -> list[str]:
        known = _ctx(info, "units")
        if known is not None:
            unknown = [c for c in v if c not in known]
            if unknown:
                raise ValueError(_("no org unit has the code {codes}").format(codes=", ".join(unknown)))
        return v

    def test(self, f: Facts) -> bool:
        inside = not f.unit_codes.isdisjoint(self.value)
        return inside if self.op == "within" else not inside


class ChannelCondition(_SetCondition):
    """How the source came in: a response's channel (link, qr, api…) or a feedback channel."""

    field: Literal["channel"]

    @field_validator("value")
    @classmethod
    def _channels_known(cls, v: list[str], info: ValidationInfo) -> list[str]:
        _known(v, _ctx(info, "channels"), _("channel"))
        return v

    def test(self, f: Facts) -> bool:
        return self._hit(f.channel)


class CategoryCondition(_SetCondition):
    """A complaint's category, as given by the form, the staff member, the API or the import."""

    field: Literal["category"]

    def test(self, f: Facts) -> bool:
        return self._hit(f.category)


class SeverityCondition(BaseModel):
    """A complaint's severity, ordered low < medium < high < critical."""

    model_config = Strict
    field: Literal["severity"]
    op: Literal["=", "!=", "<", "<=", ">", ">="]
    value: Literal["low", "medium", "high", "critical"]

    def test(self, f: Facts) -> bool:
        if f.severity not in SEVERITY_ORDER:
            return False
        return _compare(SEVERITY_ORDER.index(f.severity), self.op, SEVERITY_ORDER.index(self.value))


class SourceCondition(BaseModel):
    """Whether the source is a survey response or a feedback record."""

    model_config = Strict
    field: Literal["source"]
    op: Literal["="] = "="
    value: Literal["response", "feedback"]

    def test(self, f: Facts) -> bool:
        return f.kind == self.value


class AllOf(BaseModel):
    model_config = Strict
    all: list[Condition] = Field(min_length=1)

    def test(self, f: Facts) -> bool:
        return all(c.test(f) for c in _by_cost(self.all))


class AnyOf(BaseModel):
    model_config = Strict
    any: list[Condition] = Field(min_length=1)

    def test(self, f: Facts) -> bool:
        return any(c.test(f) for c in _by_cost(self.any))


class Not(BaseModel):
    model_config = Strict
    not_: Condition = Field(alias="not")

    def test(self, f: Facts) -> bool:
        return not self.not_.test(f)


LEAVES: dict[str, type[BaseModel]] = {
    "nps": ScoreCondition,
    "csat": ScoreCondition,
    "ces": ScoreCondition,
    "rating": ScoreCondition,
    "answer": AnswerCondition,
    "text": TextCondition,
    "text.flags": FlagCondition,
    "text.aspect": AspectCondition,
    "text.sentiment": SentimentCondition,
    "customer.tier": TierCondition,
    "unit": UnitCondition,
    "channel": ChannelCondition,
    "category": CategoryCondition,
    "severity": SeverityCondition,
    "source": SourceCondition,
}
GROUPS = ("all", "any", "not")


def _tag(v: Any) -> str | None:
    if isinstance(v, dict):
        groups = [g for g in GROUPS if g in v]
        if len(groups) == 1 and "field" not in v:
            return groups[0]
        name = v.get("field")
        if isinstance(name, str) and name in LEAVES and not groups:
            return "score" if LEAVES[name] is ScoreCondition else name
    elif isinstance(v, BaseModel):
        if isinstance(v, AllOf | AnyOf | Not):
            return {AllOf: "all", AnyOf: "any", Not: "not"}[type(v)]
        name = getattr(v, "field", None)
        return "score" if isinstance(v, ScoreCondition) else name
    return None


Condition = Annotated[
    Annotated[AllOf, Tag("all")]
    | Annotated[AnyOf, Tag("any")]
    | Annotated[Not, Tag("not")]
    | Annotated[ScoreCondition, Tag("score")]
    | Annotated[AnswerCondition, Tag("answer")]
    | Annotated[TextCondition, Tag("text")]
    | Annotated[FlagCondition, Tag("text.flags")]
    | Annotated[AspectCondition, Tag("text.aspect")]
    | Annotated[SentimentCondition, Tag("text.sentiment")]
    | Annotated[TierCondition, Tag("customer.tier")]
    | Annotated[UnitCondition, Tag("unit")]
    | Annotated[ChannelCondition, Tag("channel")]
    | Annotated[CategoryCondition, Tag("category")]
    | Annotated[SeverityCondition, Tag("severity")]
    | Annotated[SourceCondition, Tag("source")],
    Discriminator(
        _tag,
        custom_error_type="not_a_condition",
        custom_error_message=(
            'not a condition: use {"all": [...]}, {"any": [...]}, {"not": {...}} or an object whose '
            '"field" is one of nps, csat, ces, rating, answer, text, text.flags, text.aspect, '
            "text.sentiment, customer.tier, unit, channel, category, severity, source"
        ),
    ),
]

AllOf.model_rebuild()
AnyOf.model_rebuild()
Not.model_rebuild()


def _cost(c: Any) -> int:
    if isinstance(c, AllOf | AnyOf):
        return max((_cost(x) for x in (c.all if isinstance(c, AllOf) else c.any)), default=0)
    if isinstance(c, Not):
        return _cost(c.not_)
    return COST.get(getattr(c, "field", ""), 1)


def _by_cost(items: list[Any]) -> list[Any]:
    return sorted(items, key=_cost)


# --- actions --------------------------------------------------------------------------------------


class OpenCaseAction(BaseModel):
    """Open a case for the source (one per source, whatever rules match it)."""

    model_config = Strict
    type: Literal["open_case"]
    priority: Literal["low", "normal", "high", "urgent"] = "normal"
    sla_policy: int | None = None
    title: str = Field(default="", max_length=200)

    @field_validator("sla_policy")
    @classmethod
    def _policy_known(cls, v: int | None, info: ValidationInfo) -> int | None:
        known = _ctx(info, "sla_policies")
        if v is not None and known is not None and v not in known:
            raise ValueError(_("no active SLA policy has the id {id}").format(id=v))
        return v


class NotifyAction(BaseModel):
    """Notify people: holders of roles at the source's unit (or the nearest unit above), or named users."""

    model_config = Strict
    type: Literal["notify"]
    roles: list[Literal["unit_manager", "cx_manager", "admin", "agent"]] = Field(default_factory=list)
    users: list[str] = Field(default_factory=list)

    @field_validator("users")
    @classmethod
    def _users_known(cls, v: list[str], info: ValidationInfo) -> list[str]:
        known = _ctx(info, "users")
        if known is not None:
            unknown = [u for u in v if u not in known]
            if unknown:
                raise ValueError(
                    _("no active staff member is named {names}").format(names=", ".join(unknown))
                )
        return v

    @model_validator(mode="after")
    def _someone(self) -> NotifyAction:
        if not self.roles and not self.users:
            raise ValueError(_("notify needs roles or users to send to"))
        return self


class TagAction(BaseModel):
    """Put tags on the source."""

    model_config = Strict
    type: Literal["tag"]
    tags: list[Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")]] = Field(min_length=1)


class ResurveyAction(BaseModel):
    """Put the source's customer on a named re-survey list; ``survey`` (a slug) is what the list
    sends. Without it the list sends what a distribution rule for ``resurvey:<list>`` names."""

    model_config = Strict
    type: Literal["resurvey"]
    list: str = Field(default="default", pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")
    survey: str | None = None

    @field_validator("survey")
    @classmethod
    def _survey_known(cls, v: str | None, info: ValidationInfo) -> str | None:
        known = _ctx(info, "surveys")
        if v is not None and known is not None and v not in known:
            raise ValueError(
                _("no active survey with a published version is called {slug}; known: {known}").format(
                    slug=v, known=", ".join(sorted(known)) or "—"
                )
            )
        return v


Action = Annotated[
    OpenCaseAction | NotifyAction | TagAction | ResurveyAction,
    Field(discriminator="type"),
]


class RuleDefinition(BaseModel):
    """What a rule version holds."""

    model_config = Strict
    condition: Condition
    actions: list[Action] = Field(min_length=1)

    @field_validator("actions")
    @classmethod
    def _one_case(cls, v: list[Any]) -> list[Any]:
        if sum(1 for a in v if isinstance(a, OpenCaseAction)) > 1:
            raise ValueError(_("a rule opens at most one case: keep one open_case action"))
        return v

    def needs_answers(self) -> bool:
        return _uses(self.condition, "answer")

    def needs_text_analysis(self) -> bool:
        return any(_uses(self.condition, name) for name in ("text.flags", "text.aspect", "text.sentiment"))

    def matches(self, f: Facts) -> bool:
        return bool(self.condition.test(f))


def _uses(c: Any, field_name: str) -> bool:
    if isinstance(c, AllOf):
        return any(_uses(x, field_name) for x in c.all)
    if isinstance(c, AnyOf):
        return any(_uses(x, field_name) for x in c.any)
    if isinstance(c, Not):
        return _uses(c.not_, field_name)
    return getattr(c, "field", None) == field_name


# --- known vocabularies of the text models (pure; loaded once) -------------------------------------

_FLAGS: frozenset[str] | None = None
_ASPECTS: frozenset[str] | None = None


def known_flags() -> frozenset[str]:
    global _FLAGS
    if _FLAGS is None:
        from manyi.textanalytics._flags import FLAG_WORDS

        _FLAGS = frozenset(FLAG_WORDS) | {"truncated", "mojibake", "no_text"}
    return _FLAGS


def known_aspects() -> frozenset[str]:
    global _ASPECTS
    if _ASPECTS is None:
        from manyi.textanalytics import default_taxonomy

        _ASPECTS = frozenset(a.key for a in default_taxonomy().aspects)
    return _ASPECTS


# --- errors ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a definition: where (``condition.all[1].value``) and why."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


class InvalidRule(ValueError):
    """A rule definition that cannot be saved; ``problems`` lists each error with its path."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = problems


_TAGS = {"all", "any", "not", "score", *LEAVES, "open_case", "notify", "tag", "resurvey"}


def _path(loc: Sequence[int | str]) -> str:
    """Pydantic's location without the union tags: ("condition", "all", 1, "score", "value")
    becomes ``condition.all[1].value``."""
    out = ""
    expect_tag = False
    for i, part in enumerate(loc):
        if expect_tag and isinstance(part, str) and part in _TAGS:
            expect_tag = False
            continue
        expect_tag = False
        if isinstance(part, int):
            out += f"[{part}]"
            prev = loc[i - 1] if i else None
            # after an item of a condition list comes a union tag; actions are tagged by "type"
            expect_tag = prev in ("all", "any") or prev == "actions"
        else:
            out += f".{part}" if out else str(part)
            if part in ("condition", "not"):
                expect_tag = True
    return out or "rule"


def _message(err: Mapping[str, Any]) -> str:
    msg = str(err.get("msg", ""))
    for prefix in ("Value error, ", "Assertion failed, "):
        msg = msg.removeprefix(prefix)
    if err.get("type") == "missing":
        return _("is required")
    if err.get("type") == "extra_forbidden":
        return _("is not a known key here")
    kind, ctx = err.get("type"), err.get("ctx") or {}
    got = json.dumps(err.get("input"), ensure_ascii=False, default=str)
    # Pydantic's own sentences are English only: the common ones are said in the reader's language.
    if kind == "literal_error":
        expected = str(ctx.get("expected", "")).replace(" or ", ", ")
        return _("must be one of {values}; got {value}").format(values=expected, value=got)
    if kind == "string_pattern_mismatch":
        return _(
            "use lower-case letters, digits, - and _ only, starting with a letter or digit "
            "(at most 64 characters); got {value}"
        ).format(value=got)
    if kind in ("float_parsing", "float_type", "int_parsing", "int_type", "int_from_float"):
        return _("must be a number; got {value}").format(value=got)
    if kind == "too_short":
        n = int(ctx.get("min_length", 1))
        return ngettext("needs at least {n} item", "needs at least {n} items", n).format(n=n)
    if kind == "list_type":
        return _("must be a list in square brackets; got {value}").format(value=got)
    if kind == "string_type":
        return _("must be text in double quotes; got {value}").format(value=got)
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return _("must be an object in curly braces; got {value}").format(value=got)
    if err.get("type") == "union_tag_invalid" and "actions" in err.get("loc", ()):
        return _("unknown action type; use open_case, notify, tag or resurvey")
    if err.get("type") == "union_tag_not_found" and "actions" in err.get("loc", ()):
        return _('an action needs a "type": open_case, notify, tag or resurvey')
    return msg


def parse_definition(
    condition: Any, actions: Any, *, context: Mapping[str, Any] | None = None
) -> RuleDefinition:
    """Validate a condition tree and actions (JSON text or already parsed); raise InvalidRule."""
    problems: list[Problem] = []
    parsed: dict[str, Any] = {}
    for name, value in (("condition", condition), ("actions", actions)):
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except json.JSONDecodeError as exc:
                problems.append(
                    Problem(
                        name,
                        _("is not valid JSON: {reason} at line {line}, column {col}").format(
                            reason=exc.msg, line=exc.lineno, col=exc.colno
                        ),
                    )
                )
                continue
        parsed[name] = value
    if problems:
        raise InvalidRule(problems)
    try:
        return RuleDefinition.model_validate(parsed, context=dict(context or {}))
    except ValidationError as exc:
        raise InvalidRule(
            [Problem(_path(e["loc"]), _message(e)) for e in exc.errors(include_url=False)]
        ) from None


def definition_json(defn: RuleDefinition) -> tuple[Any, Any]:
    """The (condition, actions) to store: the validated values, keys as written in the schema."""
    data = defn.model_dump(mode="json", by_alias=True, exclude_defaults=False)
    return data["condition"], data["actions"]


Tester = Callable[[Facts], bool]
