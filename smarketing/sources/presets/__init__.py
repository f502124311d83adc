"""Mapping presets shipped with smarketing (package data: one TOML file per preset).

`smarketing.sources.mapping.preset_names()` lists them and `preset_text(name)` returns one; the
format is documented in `smarketing/sources/mapping.py`."""
