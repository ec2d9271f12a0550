from collections import Counter

import pytest

from branches.models import Branch, Region

pytestmark = pytest.mark.django_db


def test_all_47_prefectural_branches_ship_with_the_app():
    branches = list(Branch.objects.all())
    assert len(branches) == 47
    assert [b.code for b in branches] == [f"{n:02d}" for n in range(1, 48)]


@pytest.mark.parametrize(
    ("code", "name", "prefecture", "region"),
    [
        ("01", "北海道支部", "北海道", Region.HOKKAIDO),
        ("10", "群馬支部", "群馬県", Region.KANTO),
        ("11", "埼玉支部", "埼玉県", Region.KANTO),
        ("12", "千葉支部", "千葉県", Region.KANTO),
        ("13", "東京支部", "東京都", Region.KANTO),
        ("26", "京都支部", "京都府", Region.KINKI),
        ("27", "大阪支部", "大阪府", Region.KINKI),
        ("47", "沖縄支部", "沖縄県", Region.KYUSHU),
    ],
)
def test_branch_names_codes_and_regions(code, name, prefecture, region):
    branch = Branch.objects.get(code=code)
    assert (branch.name, branch.prefecture, branch.region) == (name, prefecture, region)


def test_every_region_block_has_branches():
    counts = Counter(Branch.objects.values_list("region", flat=True))
    assert counts == {
        "hokkaido": 1,
        "tohoku": 6,
        "kanto": 7,
        "chubu": 9,
        "kinki": 7,
        "chugoku": 5,
        "shikoku": 4,
        "kyushu": 8,
    }
