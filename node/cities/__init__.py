"""Cities, identified by UN/LOCODE (`KE-NBO`)."""
