"""The mail server misbehaving during a run: temporary failures are retried by the next run with
nothing lost or doubled; a permanently refused address is marked, no longer mailed, and the
summary says so; a message refused for spam or policy leaves the address alone and its releases
come with the next digest."""

from __future__ import annotations

import socket
from collections.abc import Callable

import pytest
from sqlalchemy import func, select

from release_notifier.db.models import Digest, User
from release_notifier.sandbox.mailcatcher import MailCatcher
from tests.faults.conftest import World, tally

ADDRESSES = [f"reader{n}@example.test" for n in range(4)]


def subscribers(world: World) -> dict[str, set[str]]:
    """Four readers, each following an artist with one new release; all digests due now."""
    expected = {}
    for n, address in enumerate(ADDRESSES):
        artist = world.spotify.add_artist(f"Band {n}")
        world.spotify.add_release(artist, f"Record {n}", release_date="2026-11-22")
        world.add_user(address, [artist])
        expected[address] = {f"Record {n}"}
    return expected


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def report(name: str, world: World, expected: dict[str, set[str]], problems: list[str]) -> None:
    counted = tally(world.smtp, expected)
    print(
        f"\nsmtp fault {name!r}: problems in the faulty run {len(problems)}, "
        f"lost={counted.lost} duplicated={counted.duplicated}"
    )
    assert counted.lost == 0
    assert counted.duplicated == 0


def test_a_mail_server_that_is_down_loses_nothing_and_the_next_run_sends_all(
    world: World,
) -> None:
    expected = subscribers(world)
    healthy = world.settings
    world.settings = healthy.model_copy(update={"smtp_port": closed_port()})

    down = world.run()

    assert down.emails_sent == 0
    assert "mail server kept failing: the rest wait for next run" in down.problems
    world.settings = healthy
    again = world.run()
    assert again.emails_sent == len(ADDRESSES)
    report("server down", world, expected, down.problems)


TEMPORARY: dict[str, Callable[[MailCatcher], None]] = {
    "421 on DATA": lambda smtp: smtp.fail_next(1, 421, "4.3.2 service shutting down"),
    "451 on DATA": lambda smtp: smtp.fail_next(1, 451, "4.3.0 try again later"),
    "450 on RCPT": lambda smtp: smtp.reject(ADDRESSES[0], 450, "4.2.1 mailbox busy"),
    "connection dropped twice mid-batch": lambda smtp: smtp.drop_after(1, times=2),
    "connection dropped once mid-batch": lambda smtp: smtp.drop_after(1, times=1),
}


@pytest.mark.parametrize("name", list(TEMPORARY))
def test_a_temporary_failure_is_retried_by_the_next_run_with_nothing_lost_or_doubled(
    world: World, name: str
) -> None:
    expected = subscribers(world)
    TEMPORARY[name](world.smtp)

    faulty = world.run()

    with world.smtp._lock:  # the busy mailbox is free again (the catcher has no knob for it)
        world.smtp._rejected.clear()
    world.run()
    with world.database.session() as session:
        rejected = session.scalar(select(func.count()).where(User.mail_rejected_at.is_not(None)))
    assert rejected == 0
    if faulty.emails_sent < len(ADDRESSES):
        assert any("retried next run" in problem for problem in faulty.problems)
    report(name, world, expected, faulty.problems)


@pytest.mark.parametrize(
    ("name", "refuse"),
    [
        ("550 on RCPT", lambda smtp: smtp.reject(ADDRESSES[1], 550, "5.1.1 no such user")),
        ("550 5.1.1 on DATA", lambda smtp: smtp.fail_next(1, 550, "5.1.1 no such user")),
    ],
)
def test_a_permanently_refused_address_is_marked_and_no_longer_mailed(
    world: World, name: str, refuse: Callable[[MailCatcher], None]
) -> None:
    expected = subscribers(world)
    refuse(world.smtp)

    faulty = world.run()

    assert any("address refused for good" in line for line in faulty.lines())
    with world.database.session() as session:
        refused = list(session.scalars(select(User).where(User.mail_rejected_at.is_not(None))))
        assert len(refused) == 1 and refused[0].mail_rejected_reason
        refused_id, refused_address = refused[0].id, refused[0].email
        digests_before = session.scalar(select(func.count()).where(Digest.user_id == refused_id))
    world.days_pass(14)
    later = world.run()
    with world.database.session() as session:
        digests_after = session.scalar(select(func.count()).where(Digest.user_id == refused_id))
    assert digests_after == digests_before  # never claimed, never attempted again
    assert later.problems == []
    del expected[refused_address]  # the one address nobody can reach
    report(name, world, expected, faulty.problems)


@pytest.mark.parametrize(
    ("name", "refuse"),
    [
        ("554 5.7.1 on DATA", lambda smtp: smtp.fail_next(1, 554, "5.7.1 refused as spam")),
        ("550 5.7.1 on RCPT", lambda smtp: smtp.reject(ADDRESSES[2], 550, "5.7.1 blocked")),
    ],
)
def test_a_refused_message_keeps_the_address_and_comes_with_the_next_digest(
    world: World, name: str, refuse: Callable[[MailCatcher], None]
) -> None:
    expected = subscribers(world)
    refuse(world.smtp)

    faulty = world.run()

    assert faulty.emails_sent == len(ADDRESSES) - 1
    assert any("digest refused" in problem for problem in faulty.problems)
    with world.database.session() as session:
        rejected = session.scalar(select(func.count()).where(User.mail_rejected_at.is_not(None)))
    assert rejected == 0
    with world.smtp._lock:  # the block is lifted (the catcher has no knob for it)
        world.smtp._rejected.clear()
    world.days_pass(1)
    assert world.run().emails_sent == 0  # not retried at once: it waits for its digest date
    world.days_pass(13)
    assert world.run().emails_sent == 1
    report(name, world, expected, faulty.problems)
