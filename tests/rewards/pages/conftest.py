"""The rewards member pages run on the member-page fixtures: a default program with tiers, a signed-in
member, a fresh cache, English. In tests/rewards/conftest.py they would replace `program` and `member`
for every rewards test, so they are taken here, next to the page tests only."""

from tests.members.pages.conftest import _english, _fresh_cache, member, member_client, partner, program  # noqa: F401
from tests.wallet import apple_wallet, google_wallet  # noqa: F401
