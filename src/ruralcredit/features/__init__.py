"""Point-in-time features: raw tables -> one indicator row per subject at an ``as_of`` date (layer 2)."""
