from __future__ import annotations

from django.db import IntegrityError, transaction

from partnerdesk.identity.models import Company, User, _new_customer_number, _new_registration_id


def company_create(*, business_name: str, owner_email: str = "", owner: User | None = None) -> Company:
    """Create a company with fresh random customer number and registration id (retrying on a clash)."""
    for _ in range(10):
        try:
            with transaction.atomic():
                return Company.objects.create(
                    business_name=business_name,
                    owner_email=owner_email.lower(),
                    owner=owner,
                    customer_number=_new_customer_number(),
                    registration_id=_new_registration_id(),
                )
        except IntegrityError:
            continue
    raise RuntimeError("could not allocate a unique customer number")
