"""Sealed sensitive fields: round trip, tamper detection, key ids and rotation, key configuration errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

from erpcore import crypto
from erpcore.config import load_settings
from erpcore.crypto import DecryptionFailed, Keyring, MissingKey, generate_key, key_id, mask, parse_keys
from erpcore.exceptions import ConfigError, ValidationFailed

K1, K2 = generate_key("k1"), generate_key("k2")


def ring(*entries: str, active: str | None = None) -> Keyring:
    keys = parse_keys(",".join(entries), "test")
    return Keyring(keys, active or (list(keys)[-1] if keys else None))


def test_a_sealed_value_round_trips_and_shows_no_plaintext() -> None:
    keys = ring(K1)
    sealed = keys.seal("DE89370400440532013000", "employee.bank_account")
    assert sealed is not None and sealed.startswith("v1:k1:")
    assert "DE89370400440532013000" not in sealed and "0532013000" not in sealed
    assert keys.open(sealed, "employee.bank_account") == "DE89370400440532013000"
    assert keys.seal("x", "f") != keys.seal("x", "f")  # a fresh nonce each time
    assert keys.seal(None, "f") is None and keys.open(None, "f") is None


def test_a_flipped_byte_fails_authentication() -> None:
    keys = ring(K1)
    sealed = keys.seal("4321.57", "employee.salary")
    assert sealed is not None
    body = sealed.split(":", 2)[2]
    flipped = body[:10] + ("A" if body[10] != "A" else "B") + body[11:]
    with pytest.raises(DecryptionFailed, match="fails authentication"):
        keys.open(f"v1:k1:{flipped}", "employee.salary")


def test_a_value_moved_to_another_field_fails_authentication() -> None:
    keys = ring(K1)
    with pytest.raises(DecryptionFailed):
        keys.open(keys.seal("4321.57", "employee.salary"), "employee.tax_id")


def test_a_value_under_a_key_that_is_not_configured_is_a_one_line_config_error() -> None:
    sealed = ring(K1).seal("secret", "employee.tax_id")
    with pytest.raises(MissingKey, match="employee.tax_id holds values encrypted with key 'k1', which is not "
                                         "configured") as raised:
        ring(K2).open(sealed, "employee.tax_id")
    assert "\n" not in str(raised.value)
    with pytest.raises(MissingKey):
        Keyring().open(sealed, "employee.tax_id")


def test_rotation_reads_old_values_and_writes_with_the_active_key() -> None:
    old = ring(K1).seal("1234", "f")
    both = ring(K1, K2)
    assert both.active == "k2" and not both.is_current(old)
    rotated = both.seal(both.open(old, "f"), "f")
    assert key_id(rotated) == "k2" and both.is_current(rotated)
    assert both.open(rotated, "f") == "1234"
    assert ring(K1, K2, active="k1").is_current(old)


def test_without_a_key_values_stay_plain_and_count_as_current() -> None:
    plain = Keyring()
    assert plain.seal("12345", "f") == "12345" and plain.is_current("12345")
    assert key_id("12345") is None
    with pytest.raises(ValidationFailed):
        plain.seal("v1:looks:sealed", "f")


@pytest.mark.parametrize(("text", "message"), [
    ("nokeyhere", "not KID:BASE64KEY"),
    ("k1:c2hvcnQ", "not 32 bytes"),
    ("k1:!!!!", "not 32 bytes"),
    (f"{K1},{K1}", "listed twice"),
    ("bad id:" + K1.split(":")[1], "not KID:BASE64KEY"),
], ids=["no-colon", "short-key", "not-base64", "twice", "bad-id"])  # K1 is random: ids keep xdist's collections equal
def test_bad_key_entries_are_refused_naming_the_problem(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_keys(text, "ERPOPS_ENCRYPTION_KEY")


def test_keys_come_from_the_file_and_the_environment_and_the_last_one_is_active(tmp_path: Path) -> None:
    key_file = tmp_path / "keys"
    key_file.write_text(f"# old key\n{K1}\n")
    settings = load_settings(encryption_key_file=key_file, encryption_key=SecretStr(K2))
    keys = crypto.keyring(settings)
    assert list(keys.keys) == ["k1", "k2"] and keys.active == "k2"
    assert crypto.keyring(load_settings(encryption_key_file=key_file, encryption_key=SecretStr(K2),
                                        encryption_active_key="k1")).active == "k1"
    with pytest.raises(ConfigError, match="not among the configured keys"):
        crypto.keyring(load_settings(encryption_key=SecretStr(K2), encryption_active_key="k9"))
    with pytest.raises(ConfigError, match="cannot be read"):
        crypto.keyring(load_settings(encryption_key_file=tmp_path / "missing"))


def test_masking_keeps_only_the_last_four() -> None:
    assert mask("DE89370400440532013000") == "****3000"
    assert mask("1234") == "****"
    assert mask(None) is None
