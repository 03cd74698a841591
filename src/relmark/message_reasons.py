"""What an outbox reason code means, in plain words, in one place.

The planner, the sender and the data-rights acts write short machine-readable codes
(`cap_7d`, `quiet_hours_deferred`); people reading the outbox in the terminal, the API or the
dashboard need a sentence. The code stays beside the sentence, so scripts keep matching it.
The dashboard translates these exact sentences (they are msgids in the .po catalogues).
"""

from __future__ import annotations

#: Every reason relmark writes → one sentence a shop owner understands.
REASON_WORDS: dict[str, str] = {
    "restricted": "The customer restricted the processing of their data.",
    "no_address": "The customer has no usable address for this channel.",
    "unsubscribed": "The customer unsubscribed from this kind of message.",
    "no_consent": "The customer has not agreed to receive this kind of message.",
    "below_profitability": "The customer earns the shop too little for this costly message.",
    "duplicate": "The customer already has a message of this playbook at about this time.",
    "control_group": "Held back on purpose: the customer is in the control group.",
    "cap_7d": "The customer already gets the most messages allowed in 7 days.",
    "cap_30d": "The customer already gets the most messages allowed in 30 days.",
    "spacing": "Too soon after another message to the same customer.",
    "budget": "The plan's daily budget was used up by more valuable messages.",
    "quiet_hours_deferred": "Moved to the end of the customer's quiet hours.",
    "p_alive_not_computed": "The chance that the customer is still active could not be computed.",
    "clv_not_computed": "The customer's lifetime value could not be computed.",
    "erased": "The customer's personal data was erased.",
    "expired": "The occasion passed while relmark was not running; too late to send now.",
    "order_not_completed": "The order was cancelled or returned before the message went out.",
}


def reason_text(code: str | None) -> str | None:
    """The sentence for `code`; an unknown code (a newer relmark, a plugin) as it is."""
    if code is None:
        return None
    return REASON_WORDS.get(code, code)
