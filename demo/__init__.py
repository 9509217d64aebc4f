"""The demo estate simulator: writes a realistic estate in the formats AWS emits."""
