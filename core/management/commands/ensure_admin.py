from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = (
        "Create the admin user if it does not exist, or reset its password; with --totp-secret, "
        "give it that TOTP secret (the admin needs two factors) and print its unused recovery codes."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--email", required=True)
        parser.add_argument("--password", required=True)
        parser.add_argument("--totp-secret", default="", help="base32, as authenticator apps take it")

    def handle(self, *args, email: str, password: str, totp_secret: str, **options) -> None:
        from allauth.account.models import EmailAddress

        User = get_user_model()
        user, _ = User.objects.get_or_create(username=email, defaults={"email": email})
        user.email, user.is_staff, user.is_superuser = email, True, True
        user.set_password(password)
        user.save()
        EmailAddress.objects.update_or_create(
            user=user, email=email, defaults={"verified": True, "primary": True}
        )
        if totp_secret:
            codes = self._ensure_totp(user, totp_secret.strip().upper())
            self.stdout.write(f"recovery codes: {' '.join(codes)}")

    def _ensure_totp(self, user, secret: str) -> list[str]:
        import base64
        import binascii

        from allauth.mfa.models import Authenticator
        from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
        from allauth.mfa.totp.internal.auth import TOTP
        from allauth.mfa.utils import decrypt

        try:
            base64.b32decode(secret, casefold=True)
        except (binascii.Error, ValueError) as exc:
            raise CommandError(f"--totp-secret is not base32: {exc}") from exc
        current = Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).first()
        if current is None or decrypt(current.data["secret"]) != secret:
            Authenticator.objects.filter(user=user).delete()  # new secret: new recovery codes too
            TOTP.activate(user, secret)
        return RecoveryCodes.activate(user).get_unused_codes()
