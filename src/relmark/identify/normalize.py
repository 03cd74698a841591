"""Match keys for identity resolution: the normalisation lives in `relmark.contact_keys`
(shared with the suppression list); this name stays for the stage's own imports."""

from relmark.contact_keys import PLACEHOLDERS, Key, normalize_email, normalize_phone

__all__ = ["PLACEHOLDERS", "Key", "normalize_email", "normalize_phone"]
