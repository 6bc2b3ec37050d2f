"""Monitoring the federation on the global node (DESIGN §5): each node's reporting, certificates
and anomalies (`service.py`), and a periodic data-quality report per node (`quality.py`), as
GLEIF scores its local operating units."""
