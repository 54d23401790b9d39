"""The words of an invitation, in the customer's language: built-in texts or the rule's own."""

from __future__ import annotations

from manyi.core.i18ntext import LANG_EN, LANG_ZH, normalize_language, text_for

# Customer-facing content (like survey texts), so it lives here per language rather than in the
# interface catalogue; a rule may override the body with its own ``message``.
BODY = {
    LANG_ZH: "{name}您好，感谢光临{unit}。请花一分钟评价本次服务：{url}",
    LANG_EN: "Hello {name}, thank you for visiting {unit}. Please take a minute to rate our service: {url}",
}
REMINDER_BODY = {
    LANG_ZH: "提醒：{unit}期待您的评价，一分钟即可完成：{url}",
    LANG_EN: "A reminder: {unit} would still value your opinion, it takes a minute: {url}",
}
SUBJECT = {LANG_ZH: "请评价您在{unit}的体验", LANG_EN: "How was your visit to {unit}?"}
REMINDER_SUBJECT = {
    LANG_ZH: "提醒：请评价您在{unit}的体验",
    LANG_EN: "Reminder: how was your visit to {unit}?",
}


def invitation_language(customer_language: str, unit_locale: str, survey_languages: list[str]) -> str:
    """The customer's language when the survey speaks it, else the unit's, else the survey's first."""
    for code in (customer_language, unit_locale):
        lang = normalize_language(code)
        if lang and lang in survey_languages:
            return lang
    return survey_languages[0] if survey_languages else LANG_ZH


def compose(
    *, language: str, unit_name: str, customer_name: str, url: str, custom: dict[str, str], reminder: bool
) -> tuple[str, str]:
    """(subject, body) for one invitation or its reminder."""
    values = {"unit": unit_name, "name": customer_name, "url": url}
    if reminder:
        body = text_for(REMINDER_BODY, language, LANG_ZH)
        subject = text_for(REMINDER_SUBJECT, language, LANG_ZH)
    else:
        body = text_for(custom, language, "") or text_for(BODY, language, LANG_ZH)
        subject = text_for(SUBJECT, language, LANG_ZH)
    try:
        body = body.format(**values)
    except (KeyError, IndexError, ValueError):
        # A rule's own text with an unknown placeholder must not stop delivery: fall back.
        body = text_for(BODY, language, LANG_ZH).format(**values)
    if url not in body:
        body = f"{body} {url}"
    # An unnamed customer: "Hello , thank you" reads "Hello, thank you".
    return subject.format(**values), body.replace(" ,", ",")
