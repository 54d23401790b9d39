"""Survey templates: relational NPS, post-service CSAT, CES after support, store CSI (SERVQUAL).

Survey content is data in both languages, so it lives here rather than in the gettext catalogues.
"""

from __future__ import annotations

import copy
from typing import Any


def t(zh: str, en: str) -> dict[str, str]:
    return {"zh-hans": zh, "en": en}


def _scale_labels(lo_zh: str, lo_en: str, hi_zh: str, hi_en: str) -> dict[str, Any]:
    return {"min_label": t(lo_zh, lo_en), "max_label": t(hi_zh, hi_en)}


NPS_Q = {
    "code": "nps",
    "type": "nps",
    "required": True,
    "label": t(
        "您有多大可能向朋友或同事推荐我们？", "How likely are you to recommend us to a friend or colleague?"
    ),
    "scale": _scale_labels("完全不可能", "Not at all likely", "极有可能", "Extremely likely"),
}
CSAT_LABELS = [
    t("非常不满意", "Very dissatisfied"),
    t("不满意", "Dissatisfied"),
    t("一般", "Neutral"),
    t("满意", "Satisfied"),
    t("非常满意", "Very satisfied"),
]
CSAT_Q = {
    "code": "csat",
    "type": "csat",
    "required": True,
    "label": t("您对本次服务的整体满意度如何？", "Overall, how satisfied are you with this visit?"),
    "scale": {"labels": CSAT_LABELS},
}
COMMENT_Q = {
    "code": "comment",
    "type": "text",
    "required": False,
    "label": t("请告诉我们原因，或我们可以改进的地方。", "Please tell us why, or what we could do better."),
}
CONSENT_Q = {
    "code": "contact_ok",
    "type": "consent",
    "required": False,
    "label": t("如有需要，我们可以联系您跟进吗？", "May we contact you to follow up?"),
}
REASONS_Q = {
    "code": "reasons",
    "type": "multi",
    "required": False,
    "allow_other": True,
    "label": t("哪些方面最影响您的评价？", "What mattered most to your rating?"),
    "options": [
        {"code": "wait", "label": t("等候时间", "Waiting time")},
        {"code": "staff", "label": t("员工态度", "Staff attitude")},
        {"code": "clean", "label": t("清洁卫生", "Cleanliness")},
        {"code": "price", "label": t("价格", "Price")},
        {"code": "quality", "label": t("产品质量", "Product quality")},
    ],
    "show_if": {"question": "nps", "op": "lte", "value": 8},
}

SERVQUAL_DIMENSIONS = [
    ("tangibles", "有形性：门店环境、设施与员工仪表", "Tangibles: premises, equipment and staff appearance"),
    ("reliability", "可靠性：准确、按承诺提供服务", "Reliability: service delivered accurately, as promised"),
    ("responsiveness", "响应性：及时、乐意地帮助顾客", "Responsiveness: prompt, willing help"),
    ("assurance", "保证性：员工专业、值得信赖", "Assurance: competent, trustworthy staff"),
    ("empathy", "移情性：关注您的个性化需求", "Empathy: attention to your own needs"),
]

BLUEPRINTS: dict[str, dict[str, Any]] = {
    "relational_nps": {
        "name": t("关系型NPS调研", "Relational NPS"),
        "definition": {
            "title": t("您的意见对我们很重要", "Your opinion matters to us"),
            "intro": t("只需一分钟。", "It takes one minute."),
            "thanks": t("感谢您的反馈！", "Thank you for your feedback!"),
            "questions": [NPS_Q, REASONS_Q, COMMENT_Q, CONSENT_Q],
        },
    },
    "post_service_csat": {
        "name": t("服务后满意度调研", "Post-service CSAT"),
        "definition": {
            "title": t("本次服务体验如何？", "How was your visit?"),
            "intro": t("感谢光临，请花一分钟评价本次服务。", "Thanks for visiting. Please rate your visit."),
            "thanks": t("谢谢！我们会认真阅读每一条意见。", "Thank you! We read every comment."),
            "questions": [CSAT_Q, COMMENT_Q, CONSENT_Q],
        },
    },
    "support_ces": {
        "name": t("售后支持费力度调研", "CES after support"),
        "definition": {
            "title": t("问题解决得容易吗？", "Was it easy to get your issue solved?"),
            "intro": t("", ""),
            "thanks": t("谢谢您的反馈。", "Thank you for your feedback."),
            "questions": [
                {
                    "code": "ces",
                    "type": "ces",
                    "required": True,
                    "label": t(
                        "公司让解决我的问题变得很容易。",
                        "The company made it easy for me to handle my issue.",
                    ),
                    "scale": _scale_labels("非常不同意", "Strongly disagree", "非常同意", "Strongly agree"),
                },
                {
                    "code": "resolved",
                    "type": "single",
                    "required": True,
                    "label": t("您的问题解决了吗？", "Was your issue resolved?"),
                    "options": [
                        {"code": "yes", "label": t("已解决", "Yes")},
                        {"code": "partly", "label": t("部分解决", "Partly")},
                        {"code": "no", "label": t("未解决", "No")},
                    ],
                },
                COMMENT_Q,
            ],
        },
    },
    "store_csi": {
        "name": t("门店顾客满意度指数（CSI）", "Store customer satisfaction index (CSI)"),
        "definition": {
            "title": t("门店服务评价", "Rate our store"),
            "intro": t("请根据本次到店体验评分。", "Please rate the visit you just had."),
            "thanks": t("感谢您的评价！", "Thank you for your rating!"),
            "questions": [
                NPS_Q,
                CSAT_Q,
                {
                    "code": "csi",
                    "type": "matrix",
                    "required": True,
                    "label": t(
                        "请为以下各方面打分（1=很差，5=很好）", "Rate each aspect (1 = poor, 5 = excellent)"
                    ),
                    "scale": {"min": 1, "max": 5, **_scale_labels("很差", "Poor", "很好", "Excellent")},
                    "rows": [{"code": c, "label": t(zh, en)} for c, zh, en in SERVQUAL_DIMENSIONS],
                },
                {
                    "code": "sq_wait",
                    "type": "servqual",
                    "required": False,
                    "label": t(
                        "等候时间：您的期望与实际感受", "Waiting time: what you expected and what you got"
                    ),
                    "scale": {"min": 1, "max": 7, **_scale_labels("很低", "Very low", "很高", "Very high")},
                },
                COMMENT_Q,
                CONSENT_Q,
            ],
        },
    },
}


def blueprint(name: str) -> dict[str, Any]:
    """A deep copy of a template, safe to edit."""
    if name not in BLUEPRINTS:
        raise KeyError(f"unknown survey template {name!r}; choose from {', '.join(BLUEPRINTS)}")
    return copy.deepcopy(BLUEPRINTS[name])
