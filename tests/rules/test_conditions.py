"""The condition schema: what is accepted, the exact problem (path and reason) for what is not, and
what a condition matches."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from manyi.rules.conditions import Facts, InvalidRule, parse_definition

ACTIONS = [{"type": "tag", "tags": ["x"]}]
CONTEXT = {
    "units": {"acme", "sh-001", "cd-001"},
    "tiers": {"standard", "gold"},
    "channels": {"link", "phone"},
}


def facts(**kw) -> Facts:
    base = {"kind": "response", "source_id": 1, "unit_id": 1, "unit_codes": frozenset({"acme", "sh-001"})}
    return Facts(**{**base, **kw})


def problems(condition, actions=ACTIONS, context=CONTEXT) -> list[str]:
    with pytest.raises(InvalidRule) as exc:
        parse_definition(condition, actions, context=context)
    return [str(p) for p in exc.value.problems]


def test_a_score_outside_its_scale_is_refused_with_the_path_and_the_scale():
    assert problems(
        {"all": [{"field": "csat", "op": "<=", "value": 2}, {"field": "nps", "op": "<=", "value": 11}]}
    ) == ["condition.all[1].value: nps is on a scale from 0 to 10, got 11"]


def test_an_unknown_unit_code_deep_in_the_tree_is_named_with_its_path():
    tree = {"any": [{"field": "nps", "op": "<", "value": 7}, {"not": {"field": "unit", "value": ["sh-999"]}}]}
    assert problems(tree) == ["condition.any[1].not.value: no org unit has the code sh-999"]


def test_an_unknown_field_says_which_fields_exist():
    (p,) = problems({"field": "mood", "op": "=", "value": 1})
    assert p.startswith("condition: not a condition") and "text.flags" in p and "customer.tier" in p


def test_an_unknown_flag_lists_the_known_flags():
    (p,) = problems({"field": "text.flags", "value": ["angry"]})
    assert p.startswith("condition.value: unknown flag angry; known: anger, churn")


def test_invalid_json_text_gives_line_and_column():
    (p,) = problems('{"all": [', ACTIONS)
    assert p.startswith("condition: is not valid JSON") and "line 1, column 10" in p


def test_an_extra_key_and_a_missing_action_type_are_both_reported():
    assert problems({"field": "nps", "op": "<=", "value": 6, "vale": 1}, [{"tags": ["x"]}]) == [
        "condition.vale: is not a known key here",
        'actions[0]: an action needs a "type": open_case, notify, tag or resurvey',
    ]


def test_notify_without_recipients_and_two_case_actions_are_refused():
    leaf = {"field": "nps", "op": "<=", "value": 6}
    assert problems(leaf, [{"type": "notify"}]) == ["actions[0]: notify needs roles or users to send to"]
    assert problems(leaf, [{"type": "open_case"}, {"type": "open_case", "priority": "urgent"}]) == [
        "actions: a rule opens at most one case: keep one open_case action"
    ]


def test_an_empty_group_and_no_actions_are_refused():
    found = problems({"all": []}, [])
    assert any(p.startswith("condition.all:") for p in found)
    assert any(p.startswith("actions:") for p in found)


def test_a_sla_policy_that_does_not_exist_is_refused():
    assert problems(
        {"field": "nps", "op": "<=", "value": 6},
        [{"type": "open_case", "sla_policy": 99}],
        {**CONTEXT, "sla_policies": {1, 2}},
    ) == ["actions[0].sla_policy: no active SLA policy has the id 99"]


@given(nps=st.integers(0, 10), threshold=st.integers(0, 10))
def test_nps_at_most_matches_exactly_the_scores_at_or_below_the_threshold(nps, threshold):
    d = parse_definition({"field": "nps", "op": "<=", "value": threshold}, ACTIONS)
    assert d.matches(facts(nps=nps)) is (nps <= threshold)


@given(a=st.booleans(), b=st.booleans())
def test_all_any_and_not_combine_like_boolean_logic(a, b):
    leaf_a = {"field": "nps", "op": "<=", "value": 6}
    leaf_b = {"field": "customer.tier", "op": "in", "value": ["gold"]}
    f = facts(nps=3 if a else 9, customer_tier="gold" if b else "standard")
    assert parse_definition({"all": [leaf_a, leaf_b]}, ACTIONS).matches(f) is (a and b)
    assert parse_definition({"any": [leaf_a, leaf_b]}, ACTIONS).matches(f) is (a or b)
    assert parse_definition({"not": {"all": [leaf_a, leaf_b]}}, ACTIONS).matches(f) is not (a and b)


def test_a_missing_score_never_matches_a_comparison():
    d = parse_definition({"field": "csat", "op": "<=", "value": 2}, ACTIONS)
    assert not d.matches(facts(csat=None))
    assert d.matches(facts(csat=2))


def test_text_conditions_read_the_shipped_text_models():
    f = facts(text="气死我了，排队等了一个小时，我要投诉")
    assert parse_definition({"field": "text.flags", "value": ["anger"]}, ACTIONS).matches(f)
    assert parse_definition({"field": "text.aspect", "value": "wait_time"}, ACTIONS).matches(f)
    assert parse_definition({"field": "text.sentiment", "op": "=", "value": "negative"}, ACTIONS).matches(f)
    assert not parse_definition({"field": "text.flags", "value": ["legal"]}, ACTIONS).matches(f)
    assert parse_definition({"field": "text", "op": "contains", "value": "投诉"}, ACTIONS).matches(f)


def test_cheap_conditions_decide_before_the_text_models_run():
    f = facts(nps=9, text="气死我了")
    d = parse_definition(
        {"all": [{"field": "text.flags", "value": ["anger"]}, {"field": "nps", "op": "<=", "value": 6}]},
        ACTIONS,
    )
    assert not d.matches(f)
    assert f._analysis is None


def test_unit_condition_covers_the_subtree_by_code():
    d = parse_definition({"field": "unit", "op": "within", "value": ["acme"]}, ACTIONS)
    assert d.matches(facts(unit_codes=frozenset({"acme", "east", "sh-001"})))
    assert not d.matches(facts(unit_codes=frozenset({"other", "x-1"})))


def test_severity_is_ordered_and_answers_compare_by_question_code():
    sev = parse_definition({"field": "severity", "op": ">=", "value": "high"}, ACTIONS)
    assert sev.matches(facts(kind="feedback", severity="critical"))
    assert not sev.matches(facts(kind="feedback", severity="medium"))
    ans = parse_definition({"field": "answer", "question": "csi.tangibles", "op": "<=", "value": 2}, ACTIONS)
    assert ans.matches(facts(answers={"csi.tangibles": 1.0}))
    assert not ans.matches(facts(answers={"csi.tangibles": 4.0}))
    assert not ans.matches(facts(answers={}))
    multi = parse_definition(
        {"field": "answer", "question": "reasons", "op": "in", "value": ["price"]}, ACTIONS
    )
    assert multi.matches(facts(answers={"reasons": ["wait", "price"]}))


def test_type_and_pattern_errors_are_said_in_our_words_with_the_value_given():
    leaf = {"field": "nps", "op": "<=", "value": 6}
    assert problems({"field": "nps", "op": "=<", "value": "six"}) == [
        "condition.op: must be one of '=', '!=', '<', '<=', '>', '>='; got \"=<\"",
        'condition.value: must be a number; got "six"',
    ]
    assert problems(leaf, [{"type": "tag", "tags": ["Bad Tag"]}, {"type": "resurvey", "list": []}]) == [
        "actions[0].tags[0]: use lower-case letters, digits, - and _ only, starting with a letter or digit "
        '(at most 64 characters); got "Bad Tag"',
        "actions[1].list: must be text in double quotes; got []",
    ]
    assert problems({"all": "x"}, [{"type": "tag", "tags": []}]) == [
        'condition.all: must be a list in square brackets; got "x"',
        "actions[0].tags: needs at least 1 item",
    ]
