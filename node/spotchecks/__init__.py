"""Spot-checks (§26a, §28): certified applications re-reviewed at random, by a rule anyone can
recompute (`sdgcities.federation.spotcheck`). The global node draws rounds, fetches dossiers and
records outcomes (`rounds.py`); a national node answers signed dossier requests and takes in
the outcome (`dossiers.py`)."""
