"""hashdemo: an interactive lab for adversarial attacks on deep-hashing image retrieval."""

__version__ = "0.1.0"
