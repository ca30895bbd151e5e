"""A relay that echoes the recipient's address in its refusal (as Postfix does: `550 5.1.1
<ana@bücher.de>: Recipient address rejected`): the address, in any script, reaches neither the
log, the digest's `last_error`, the user's `mail_rejected_reason` nor the run's summary."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from release_notifier.db.models import Digest, User
from release_notifier.logs import configure_logging
from tests.engine.conftest import World, world

__all__ = ["world"]

ADDRESSES = ["reader@example.test", "ana@bücher.de", "用户@例子.广告", "zoë.müller@example.com"]


@pytest.mark.parametrize("address", ADDRESSES)
@pytest.mark.parametrize(
    ("where", "refuse"),
    [
        ("RCPT", lambda world, a: world.smtp.reject(a, 550, f"5.1.1 <{a}>: Recipient rejected")),
        ("DATA", lambda world, a: world.smtp.fail_next(1, 554, f"5.7.1 <{a}>: spam suspected")),
    ],
)
def test_an_address_echoed_in_a_refusal_is_masked_everywhere_it_is_kept(
    world: World, caplog: pytest.LogCaptureFixture, address: str, where: str, refuse: object
) -> None:
    configure_logging("INFO")
    artist = world.spotify.add_artist("Echo Chamber")
    world.spotify.add_release(artist, "Reverb", release_date="2026-11-22")
    world.add_user(address, [artist])
    refuse(world, address)  # type: ignore[operator]

    summary = world.run()

    with world.database.session() as session:
        kept = {
            "summary": "\n".join(summary.problems),
            "last_error": "\n".join(e or "" for e in session.scalars(select(Digest.last_error))),
            "mail_rejected_reason": session.scalars(select(User.mail_rejected_reason)).one() or "",
            "log": "\n".join(  # the app's records (the test relay's own chatter aside)
                r.getMessage() for r in caplog.records if r.name.startswith("release_notifier")
            ),
        }
    assert summary.emails_sent == 0 and summary.problems
    past_first_letter = address.split("@")[0][1:4]  # "oë." of zoë.müller: the mask keeps "z"
    leaked = {name: text for name, text in kept.items() if past_first_letter in text}
    assert leaked == {}
