from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Create the admin user if it does not exist, or reset its password."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--email", required=True)
        parser.add_argument("--password", required=True)

    def handle(self, *args, email: str, password: str, **options) -> None:
        from allauth.account.models import EmailAddress

        User = get_user_model()
        user, _ = User.objects.get_or_create(username=email, defaults={"email": email})
        user.email, user.is_staff, user.is_superuser = email, True, True
        user.set_password(password)
        user.save()
        EmailAddress.objects.update_or_create(
            user=user, email=email, defaults={"verified": True, "primary": True}
        )
