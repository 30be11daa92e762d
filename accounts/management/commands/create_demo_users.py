from pathlib import Path
from typing import Any

import yaml
from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.models import User
from accounts.services import user_set_role


class Command(BaseCommand):
    help = "Create (or reset) one demo account per role from fixtures/demo_users.yaml."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--file", default=str(settings.BASE_DIR / "fixtures/demo_users.yaml"))
        parser.add_argument(
            "--force", action="store_true", help="Allow with DEBUG off (the passwords are public)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG and not options["force"]:
            raise CommandError(
                "Refusing to create demo accounts with public passwords: DEBUG is off"
            )
        path = Path(options["file"])
        try:
            entries = yaml.safe_load(path.read_text())["users"]
        except (OSError, yaml.YAMLError, KeyError, TypeError) as exc:
            raise CommandError(f"Cannot read demo users from {path}: {exc}") from exc
        for entry in entries:
            user = User.objects.filter(email=entry["email"]).first()
            if user is None:
                user = User.objects.create_user(email=entry["email"], password=entry["password"])
            else:
                user.set_password(entry["password"])
            user.display_name = entry.get("display_name", "")
            user.save(update_fields=["password", "display_name"])
            user_set_role(user=user, role=entry["role"], changed_by=None)
            EmailAddress.objects.update_or_create(
                user=user, email=user.email, defaults={"verified": True, "primary": True}
            )
            self.stdout.write(f"  {entry['role']:<11} {entry['email']:<28} {entry['password']}")
