"""factory_boy factories for the models tests need."""

from __future__ import annotations

from typing import Any

import factory
from allauth.account.models import EmailAddress

from accounts.models import User
from accounts.services import user_set_role
from quizzes.models import Stage, Topic

DEFAULT_PASSWORD = "correct-horse-battery-9"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.com")
    display_name = factory.Faker("name")

    @classmethod
    def _create(cls, model_class: type[User], *args: Any, **kwargs: Any) -> User:
        role = kwargs.pop("role", "learner")
        password = kwargs.pop("password", DEFAULT_PASSWORD)
        user = User.objects.create_user(password=password, **kwargs)
        if role != "learner":
            user_set_role(user=user, role=role, changed_by=None)
        EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
        return user


class StageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Stage

    number = factory.Sequence(lambda n: 100 + n)
    slug = factory.Sequence(lambda n: f"stage-{n}")
    title = factory.Sequence(lambda n: f"Stage {n}")


class TopicFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Topic

    stage = factory.SubFactory(StageFactory)
    slug = factory.Sequence(lambda n: f"topic-{n}")
    title = factory.Sequence(lambda n: f"Topic {n}")


class QuizFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "quizzes.Quiz"

    slug = factory.Sequence(lambda n: f"quiz-{n}")
    title = factory.Sequence(lambda n: f"Quiz {n}")
    status = "published"
    kind = "custom"
    feedback_mode = "after_submit"
    shuffle_items = False
