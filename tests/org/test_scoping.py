"""Row scoping: a role at a unit covers its subtree, and nothing else."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser

from manyi.org.actions import do_create_staff
from manyi.org.choices import Role
from manyi.org.models import OrgUnit
from manyi.org.scoping import ancestor_paths
from manyi.surveys.actions import do_create_survey
from manyi.surveys.models import Survey, SurveyLink
from tests.conftest import PASSWORD


def test_ancestor_paths_are_every_unit_above():
    assert ancestor_paths("/1/4/17/") == ["/1/", "/1/4/"]
    assert ancestor_paths("/1/") == []


@pytest.mark.django_db
def test_a_region_role_covers_every_unit_below_it_and_no_other_region(org):
    user = do_create_staff(username="east-boss", password=PASSWORD, unit=org.region, role=Role.CX_MANAGER)
    codes = set(OrgUnit.objects.visible_to(user).values_list("code", flat=True))
    assert codes == {"east", "shanghai", "sh-001", "sh-002"}


@pytest.mark.django_db
def test_a_store_manager_reads_company_surveys_but_not_another_stores_own_survey(org):
    own = do_create_survey(slug="c-only", unit=org.store_c, template="post_service_csat")
    visible = set(Survey.objects.visible_to(org.manager_a).values_list("slug", flat=True))
    assert "store-csi" in visible  # owned by the company, applies to store A
    assert own.slug not in visible
    links = set(SurveyLink.objects.visible_to(org.manager_a).values_list("unit__code", flat=True))
    assert links == {"sh-001"}


@pytest.mark.django_db
def test_anonymous_and_role_less_users_read_nothing(org, django_user_model):
    nobody = django_user_model.objects.create_user(username="nobody", password=PASSWORD)
    assert not OrgUnit.objects.visible_to(AnonymousUser()).exists()
    assert not OrgUnit.objects.visible_to(nobody).exists()


@pytest.mark.django_db
def test_a_deactivated_unit_no_longer_grants_its_subtree(org):
    OrgUnit.objects.filter(pk=org.store_a.pk).update(is_active=False)
    from manyi.org.models import RoleAssignment

    fresh = RoleAssignment.objects.get(user=org.manager_a).user  # a new object: no cached scope
    assert not OrgUnit.objects.visible_to(fresh).exists()
