"""Blacklist registry, joint punishment, credit repair, screening and subsidy eligibility (layer 4)."""
