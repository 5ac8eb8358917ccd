from typing import TYPE_CHECKING, Any

import factory
from allauth.account.models import EmailAddress

from partnerdesk.identity.models import User

PASSWORD = "correct-horse-battery-staple"


class UserFactory(factory.django.DjangoModelFactory[User]):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.test")
    # Not Faker's random names: Django's similarity check compares letters with quick_ratio, and a long random
    # name now and then made a test's new password "too similar to the full name" (a PostgreSQL CI run failed).
    full_name = factory.Sequence(lambda n: f"Test Person {n}")
    password = factory.django.Password(PASSWORD)

    @factory.post_generation
    def verified(self, create, extracted, **kwargs):
        if create and extracted is not False:
            EmailAddress.objects.create(user=self, email=self.email, verified=True, primary=True)


def requested(result: Any) -> "AccessRequest":
    """The access request a LinkResult carries (typed: the outcome was 'requested')."""
    from partnerdesk.identity.models import AccessRequest

    assert isinstance(result.access_request, AccessRequest)
    return result.access_request


if TYPE_CHECKING:
    from partnerdesk.identity.models import AccessRequest
