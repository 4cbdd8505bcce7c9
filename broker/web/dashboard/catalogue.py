DUTCH: dict[str, str] = {}
