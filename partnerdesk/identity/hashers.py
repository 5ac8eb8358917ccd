import unicodedata

from django.contrib.auth.hashers import Argon2PasswordHasher


def normalize_password(password: str) -> str:
    """NFKC, so the same passphrase typed on different keyboards/OSes hashes the same (NIST 800-63B 5.1.1.2)."""
    return unicodedata.normalize("NFKC", password)


class Argon2idOwaspHasher(Argon2PasswordHasher):
    """Argon2id with OWASP's recommended minimum: 19 MiB memory, 2 iterations, 1 lane.

    Django's default (100 MiB, p=8) costs several times more CPU and memory per sign-in for
    no gain against the attacks OWASP models. Hashes made with either hasher verify with both,
    because the parameters are stored in the hash; Django upgrades on the next sign-in.
    Passwords are NFKC-normalised before hashing and before verifying.
    """

    algorithm = "argon2id_owasp"
    time_cost = 2
    memory_cost = 19 * 1024  # KiB
    parallelism = 1

    def encode(self, password: str, salt: str) -> str:
        return super().encode(normalize_password(password), salt)

    def verify(self, password: str, encoded: str) -> bool:
        return super().verify(normalize_password(password), encoded)
