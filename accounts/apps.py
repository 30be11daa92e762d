from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AccountsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "accounts"

    def ready(self) -> None:
        from accounts.backends import connect_invalidation
        from accounts.roles import sync_role_groups_after_migrate

        # Cached permission sets are forgotten whenever a role or permission changes.
        connect_invalidation()

        # Permission rows only exist after every app's post_migrate has created them,
        # so the role groups are synced here rather than in a data migration.
        post_migrate.connect(sync_role_groups_after_migrate, dispatch_uid="accounts.sync_roles")
