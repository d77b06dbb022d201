"""The synthetic bank and the demo data (may call any domain's services; nothing calls it)."""
