"""Factories for the domain models; tests build exactly the rows they need."""

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from branches.models import Branch, Membership
from branches.roles import ADMIN_GROUP, COUNCIL_GROUP
from kpis.models import Activity, FiscalYear, Indicator, Kpi, Measure, MonthlyValue, Pillar
from kpis.numbering import NATIONAL_PILLARS


def branch(code: str) -> Branch:
    """One of the 47 branches the data migration created."""
    return Branch.objects.get(code=code)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.django.Password("correct-horse-battery")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    branch = factory.LazyFunction(lambda: branch("11"))
    role = Membership.Role.STAFF


def admin_user(username="head-office"):
    user = UserFactory(username=username, is_staff=True)
    user.groups.add(Group.objects.get(name=ADMIN_GROUP))
    return user


def council_user(username="council"):
    user = UserFactory(username=username)
    user.groups.add(Group.objects.get(name=COUNCIL_GROUP))
    return user


class FiscalYearFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FiscalYear
        django_get_or_create = ["start_year"]

    start_year = 2023


class PillarFactory(factory.django.DjangoModelFactory):
    """One of the three national pillars."""

    class Meta:
        model = Pillar
        django_get_or_create = ["number"]

    number = 1
    name = factory.LazyAttribute(lambda o: NATIONAL_PILLARS[o.number])


class MeasureFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Measure

    branch = factory.LazyFunction(lambda: branch("11"))
    fiscal_year = factory.SubFactory(FiscalYearFactory)
    pillar = factory.SubFactory(PillarFactory)
    pillar_label = "基盤的保険者機能関係"
    title = factory.Sequence(lambda n: f"施策{n}")
    # Written "(n)" as most plans do; the model derives the sort key.
    number_label = factory.LazyAttribute(lambda o: f"({o.number})")

    class Params:
        # 1–999, as documents number measures and the importer reads them: the sequence
        # runs on over the whole process, and an export of measure 1188 would not re-import.
        number = factory.Sequence(lambda n: n % 999 + 1)


class ActivityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Activity

    measure = factory.SubFactory(MeasureFactory)
    number = factory.Sequence(lambda n: n + 1)
    text = "評議会において丁寧な説明をしたうえで、保険料率に関する議論を行う"


class IndicatorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Indicator
        django_get_or_create = ["name"]

    name = factory.Sequence(lambda n: f"指標{n}")
    unit = "%"
    direction = "higher"


class KpiFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Kpi

    measure = factory.SubFactory(MeasureFactory)
    branch = factory.SelfAttribute("measure.branch")
    fiscal_year = factory.SelfAttribute("measure.fiscal_year")
    indicator = factory.SubFactory(IndicatorFactory)
    target_text = "96.5%以上"
    actual_text = ""


class MonthlyValueFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MonthlyValue

    kpi = factory.SubFactory(KpiFactory)
    month = 4
    series = MonthlyValue.Series.SINGLE
    text = "95.3%"
