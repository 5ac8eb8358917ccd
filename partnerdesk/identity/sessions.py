"""Django's database sessions (same table, same cookie, same data), with a sign-in's session row written once.

Signing in cycles the session key (``django.contrib.auth.login`` -> ``cycle_key``). Django's database store then
looks for an unused key (a SELECT), INSERTs the row with the data from before the sign-in (in a savepoint), and at
the end of the request ``SessionMiddleware`` UPDATEs the same row with the signed-in data (in a transaction of its
own): seven statements for one row. Here ``cycle_key`` picks the new key and leaves the row to that end-of-request
save, which INSERTs it; a clash with an existing key (a 160-bit random key, so never in practice) fails the
INSERT on the primary key, exactly as Django's ``create`` would, and is never overwritten. Outside a transaction
a save is one statement, which is atomic on its own, so it is sent without the BEGIN/COMMIT around it.

Everything else is Django's ``django.contrib.sessions.backends.db.SessionStore``.
"""

from __future__ import annotations

from django.contrib.sessions.backends.base import VALID_KEY_CHARS, CreateError, UpdateError
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.contrib.sessions.exceptions import SessionInterrupted
from django.db import DatabaseError, IntegrityError, connections, router
from django.utils.crypto import get_random_string


class SessionStore(DatabaseSessionStore):
    # True from cycle_key() until the row for the new key is INSERTed by save().
    _insert_pending = False

    @property
    def is_new(self) -> bool:
        """The key was made by this request's sign-in and has no row yet (partnerdesk.identity.usersessions)."""
        return self._insert_pending

    def cycle_key(self) -> None:
        data = self._session  # type: ignore[attr-defined]  # (private in django-stubs)
        old_key = self.session_key
        self._session_key = get_random_string(32, VALID_KEY_CHARS)
        self._session_cache = data
        self._insert_pending = True
        self.modified = True
        if old_key:
            self.delete(old_key)

    def create(self) -> None:
        self._insert_pending = False
        super().create()

    def save(self, must_create: bool = False) -> None:
        if self.session_key is None:
            return self.create()
        pending = self._insert_pending
        try:
            self._save(must_create=must_create or pending)
        except CreateError:
            if pending:  # never overwrite another session; this sign-in fails instead
                raise SessionInterrupted("The new session's key is taken; sign in again.") from None
            raise
        self._insert_pending = False

    def _save(self, *, must_create: bool) -> None:
        """Django's ``save``, without its transaction when there is none around it (one statement is atomic)."""
        using = router.db_for_write(self.model)
        if connections[using].in_atomic_block:
            super().save(must_create=must_create)  # in a savepoint, so a clash leaves the transaction usable
            return
        obj = self.create_model_instance(self._get_session(no_load=must_create))  # type: ignore[attr-defined]
        try:
            obj.save(force_insert=must_create, force_update=not must_create, using=using)
        except IntegrityError:
            if must_create:
                raise CreateError from None
            raise
        except DatabaseError:
            if not must_create:
                raise UpdateError from None
            raise
