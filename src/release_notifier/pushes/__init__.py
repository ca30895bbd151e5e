"""Push notifications: a subscriber's Apprise channels (`store.py`) and what each one gets, claimed
before it is sent and marked after (`delivery.py`), carried by `channels/apprise.py`."""
