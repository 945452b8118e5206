from datetime import timedelta
from io import StringIO

from django.core.management import call_command
from django.utils import timezone

from django_stepup.models import Token
from tests.factories import TokenFactory, TokenPolicyFactory


def make_tokens():
    old = timezone.now() - timedelta(days=2)
    return {
        "live": TokenFactory(max_age=timedelta(days=7)),
        "expired_api": TokenFactory(created=old, max_age=timedelta(days=1)),
        "expired_login": TokenFactory(
            created=old, max_unused_period=timedelta(hours=1), login=True
        ),
    }


def run(*args):
    out = StringIO()
    call_command("stepup_cleartokens", *args, stdout=out)
    return out.getvalue()


def test_deletes_expired_tokens(db):
    tokens = make_tokens()
    assert run() == "Deleted 2 expired token(s).\n"
    assert list(Token.objects.all()) == [tokens["live"]]


def test_login_only_keeps_expired_api_tokens(db):
    tokens = make_tokens()
    run("--login-only")
    assert set(Token.objects.all()) == {tokens["live"], tokens["expired_api"]}


def test_dry_run_deletes_nothing(db):
    make_tokens()
    assert run("--dry-run") == "2 expired token(s) would be deleted.\n"
    assert Token.objects.count() == 3


def test_the_count_is_of_tokens_not_of_their_policies(db):
    tokens = make_tokens()
    TokenPolicyFactory(token=tokens["expired_api"])
    TokenPolicyFactory(
        token=tokens["expired_api"], scope="private_records", values={"subname": None, "type": None}
    )
    assert run() == "Deleted 2 expired token(s).\n"
    assert list(Token.objects.all()) == [tokens["live"]]
