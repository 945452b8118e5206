from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.utils import timezone
from django_otp.models import Device


class UserManager(BaseUserManager):
    use_in_migrations = True

    def create_user(self, email, password=None, **fields):
        user = self.model(email=self.normalize_email(email), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email, password=None, **fields):
        return self.create_user(email, password, is_staff=True, is_superuser=True, **fields)


class User(PermissionsMixin, AbstractBaseUser):
    """A user whose login field is the email address, as in the example project."""

    email = models.EmailField(unique=True)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    created = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"

    class Meta:
        # Swapped out, like Django's own User, when tests.settings_django_user picks auth.User.
        swappable = "AUTH_USER_MODEL"

    def __str__(self):
        return self.email


class KeyDevice(Device):
    """A django-otp device that is not TOTP: stands for a WebAuthn key or a host's own factor."""


class Zone(models.Model):
    """Stands for the example project's Domain."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="zones"
    )
    name = models.CharField(max_length=191, unique=True)

    def __str__(self):
        return self.name


class Record(models.Model):
    """Stands for the example project's RRset."""

    zone = models.ForeignKey(Zone, on_delete=models.CASCADE, related_name="records")
    subname = models.CharField(max_length=178, blank=True)
    type = models.CharField(max_length=10)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["zone", "subname", "type"], name="testapp_record_unique"
            )
        ]

    def __str__(self):
        return f"{self.subname}.{self.zone.name}/{self.type}"
