"""Social messaging channels: WeChat Official Accounts, WhatsApp Cloud API and Messenger (Meta)."""
