"""Where data comes from: the canonical CSV/Excel import, mappings and presets, HubSpot, the demo."""
