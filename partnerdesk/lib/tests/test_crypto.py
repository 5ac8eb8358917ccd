import pytest
from cryptography.fernet import Fernet

from partnerdesk.lib import crypto

KEY_A = Fernet.generate_key().decode()
KEY_B = Fernet.generate_key().decode()


def test_round_trip_and_ciphertext_hides_the_text(settings):
    settings.FIELD_ENCRYPTION_KEYS = [KEY_A]
    token = crypto.encrypt("12345678")
    assert "12345678" not in token
    assert crypto.decrypt(token) == "12345678"


def test_rotation_old_key_still_decrypts_and_rotate_moves_to_the_newest(settings):
    settings.FIELD_ENCRYPTION_KEYS = [KEY_A]
    old_token = crypto.encrypt("secret")
    settings.FIELD_ENCRYPTION_KEYS = [KEY_B, KEY_A]
    assert crypto.decrypt(old_token) == "secret"
    assert not crypto.encrypted_with_newest(old_token)
    new_token = crypto.rotate(old_token)
    assert crypto.encrypted_with_newest(new_token)
    assert Fernet(KEY_B.encode()).decrypt(new_token.encode()) == b"secret"
    settings.FIELD_ENCRYPTION_KEYS = [KEY_B]  # the old key dropped: the rotated token still opens
    assert crypto.decrypt(new_token) == "secret"
    with pytest.raises(crypto.InvalidToken):
        crypto.decrypt(old_token)
