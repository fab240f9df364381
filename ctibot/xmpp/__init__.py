"""ctibot on XMPP: the external component and the throw-away servers it is tested against."""
