"""Throw-away servers for the demo and the tests (Prosody, ejabberd): not part of the product."""
