"""The web panel's templates and static files (installed as ctibot.web)."""
