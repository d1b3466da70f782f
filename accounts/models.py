from django.conf import settings
from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.db import models, transaction
from django.db.models.functions import Lower
from django.db.models.signals import post_save
from django.dispatch import receiver
from django.utils.translation import gettext_lazy as _

from core.models import TimeStampedModel


class UserManager(BaseUserManager):
    use_in_migrations = True

    @transaction.atomic
    def _create_user(self, email: str, password: str | None, **extra_fields):
        if not email:
            raise ValueError("An email address is required.")
        display_name = extra_fields.pop("display_name", "") or local_part(email)
        user = self.model(email=self.normalize_email(email).lower(), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)  # which gives the account its profile (see `give_every_account_a_profile`)
        profile = user.profile
        profile.display_name = display_name[:60]
        profile.save(update_fields=["display_name", "updated_at"])
        return user

    def create_user(self, email: str, password: str | None = None, **extra_fields):
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email: str, password: str | None = None, **extra_fields):
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        return self._create_user(email, password, **extra_fields)


class User(AbstractUser):
    """A person with an account. Their email address is their login; what others see lives on `Profile`."""

    username = None
    first_name = None
    last_name = None
    email = models.EmailField(_("email address"), unique=True)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    objects = UserManager()

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [models.UniqueConstraint(Lower("email"), name="user_email_unique_ci")]

    def __str__(self) -> str:
        return self.email

    @property
    def display_name(self) -> str:
        return self.profile.display_name


class Tag(models.Model):
    """An interest ("gardening") or a skill or offer ("can lend tools") that people add to their profile."""

    class Kind(models.TextChoices):
        INTEREST = "interest", _("Interest")
        SKILL = "skill", _("Skill or offer")

    kind = models.CharField(max_length=10, choices=Kind)
    name = models.CharField(_("name"), max_length=60)
    slug = models.SlugField(max_length=70, allow_unicode=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["kind", "slug"], name="tag_unique_slug_per_kind")]

    def __str__(self) -> str:
        return self.name


class Profile(TimeStampedModel):
    """What a person chooses to tell the platform and their neighbours about themselves."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile")
    display_name = models.CharField(
        _("display name"),
        max_length=60,
        help_text=_("The name your neighbours see, for example “Sam” or “Sam at number 12”."),
    )
    bio = models.TextField(
        _("about you"),
        max_length=500,
        blank=True,
        help_text=_("A line or two for your neighbours. Up to 500 characters."),
    )
    language = models.CharField(
        _("preferred language"),
        max_length=7,
        choices=settings.LANGUAGES,
        default=settings.LANGUAGE_CODE,
        help_text=_("The language of the site and of the emails we send you."),
    )
    interests = models.ManyToManyField(
        Tag, blank=True, related_name="+", limit_choices_to={"kind": Tag.Kind.INTEREST}, verbose_name=_("interests")
    )
    skills = models.ManyToManyField(
        Tag,
        blank=True,
        related_name="+",
        limit_choices_to={"kind": Tag.Kind.SKILL},
        verbose_name=_("skills and offers"),
    )
    in_directory = models.BooleanField(
        _("list me in my groups' neighbour directories"),
        default=False,
        help_text=_("Members of your groups will see your display name, interests and skills. Never your email."),
    )

    class Meta:
        verbose_name = _("profile")
        verbose_name_plural = _("profiles")
        constraints = [
            models.CheckConstraint(condition=~models.Q(display_name=""), name="profile_display_name_not_empty"),
        ]

    def __str__(self) -> str:
        return self.display_name


@receiver(post_save, sender=User)
def give_every_account_a_profile(sender, instance: User, created: bool, raw: bool = False, **kwargs) -> None:
    """Every account has a profile, however it was made (sign-up, `createsuperuser`, the admin's "Add user", a
    shell): pages and emails can rely on a name and a language. Named after the address until the person chooses."""
    if created and not raw:
        Profile.objects.get_or_create(user=instance, defaults={"display_name": local_part(instance.email)})


def local_part(email: str) -> str:
    return (email or "").split("@")[0][:60] or "Neighbour"
