"""Configuration that functional administrators maintain: the zaaktypecatalogus and the mappings."""
