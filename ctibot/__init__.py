"""ctibot: an XMPP-centric CTI gateway for Asterisk PBXs."""

__version__ = "0.1.0"
