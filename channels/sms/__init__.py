"""The SMS family: providers that deliver text messages to and from phone numbers."""
