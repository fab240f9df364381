"""Prosody and ejabberd configuration for the ctibot component (installed as ctibot.xmpp_config)."""
