from django.apps import AppConfig


class QuizzesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "quizzes"

    def ready(self) -> None:
        from accounts.profile import ProfileSection, register_profile_section
        from quizzes import checks  # noqa: F401  (registers the system checks)
        from quizzes.preferences import language_section

        # "Your programming language" on the profile page (accounts knows no quizzes).
        register_profile_section(
            ProfileSection("language", "quizzes/profile_language.html", language_section)
        )
