"""manage.py stepup_notify_expiring: one reminder per token about to expire, across runs."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from django_stepup import signals
from django_stepup.models import Token
from tests.factories import TokenFactory, UserFactory
from tests.utils import in_parallel


def run(*args):
    out = StringIO()
    call_command("stepup_notify_expiring", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def expiring(db):
    """Sent ``token_expiring`` signals."""
    sent = []

    def receiver(sender, **kwargs):
        sent.append(kwargs)

    signals.token_expiring.connect(receiver)
    yield sent
    signals.token_expiring.disconnect(receiver)


def ago(**kwargs):
    return timezone.now() - timedelta(**kwargs)


@pytest.mark.django_db(transaction=True)
def test_reminds_each_owner_once_per_token(expiring):
    soon = TokenFactory(name="ci deploy", created=ago(days=25), max_age=timedelta(days=30))
    idle = TokenFactory(last_used=ago(days=85), max_unused_period=timedelta(days=90))
    TokenFactory(created=ago(days=1), max_age=timedelta(days=30))  # not within 7 days
    TokenFactory(max_age=None)  # never expires
    TokenFactory(created=ago(days=31), max_age=timedelta(days=30))  # already expired
    TokenFactory(login=True, last_used=ago(minutes=1), max_unused_period=timedelta(hours=1))
    TokenFactory(user=UserFactory(is_active=False), created=ago(days=25), max_age=timedelta(30))
    assert run("--days", "7", "--dry-run") == "2 reminder(s) would be sent.\n"
    assert mail.outbox == []
    assert run("--days", "7") == "Sent 2 reminder(s).\n"
    assert {sent["token"].pk for sent in expiring} == {soon.pk, idle.pk}
    assert {tuple(message.to) for message in mail.outbox} == {
        (soon.user.email,),
        (idle.user.email,),
    }
    [message] = [message for message in mail.outbox if message.to == [soon.user.email]]
    assert "ci deploy" in message.body and str(soon.pk) in message.body
    assert soon.secret not in message.body
    # Idempotent: a second run sends nothing.
    assert run("--days", "7") == "Sent 0 reminder(s).\n"
    assert len(mail.outbox) == 2 and len(expiring) == 2
    assert Token.objects.get(pk=soon.pk).expiry_reminded_at is not None


@pytest.mark.django_db
def test_days_must_be_positive():
    with pytest.raises(CommandError):
        run("--days", "0")


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs parallel connections")
@pytest.mark.django_db(transaction=True)
def test_parallel_runs_remind_once(expiring):
    TokenFactory(created=ago(days=25), max_age=timedelta(days=30))
    in_parallel(lambda: run("--days", "7"), lambda: run("--days", "7"), lambda: run("--days", "7"))
    assert len(expiring) == 1
    assert len(mail.outbox) == 1
