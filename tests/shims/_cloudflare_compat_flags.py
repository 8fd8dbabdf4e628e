"""Stand-in for the runtime's compatibility-flag module: every flag reads as off."""


def __getattr__(name: str) -> bool:
    return False
