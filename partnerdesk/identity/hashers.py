from django.contrib.auth.hashers import Argon2PasswordHasher


class Argon2idOwaspHasher(Argon2PasswordHasher):
    """Argon2id with OWASP's recommended minimum: 19 MiB memory, 2 iterations, 1 lane.

    Django's default (100 MiB, p=8) costs several times more CPU and memory per sign-in for
    no gain against the attacks OWASP models. Hashes made with either hasher verify with both,
    because the parameters are stored in the hash; Django upgrades on the next sign-in.
    """

    algorithm = "argon2id_owasp"
    time_cost = 2
    memory_cost = 19 * 1024  # KiB
    parallelism = 1
