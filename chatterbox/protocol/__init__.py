"""The wire protocol: generated models (``models/``) and the codec. No I/O."""
