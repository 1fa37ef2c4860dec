"""Finance-risk early warning: rules, graph and anomaly signals, drift monitoring, cases (layer 4)."""
