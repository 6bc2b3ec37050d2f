"""The federation's certificates and committee decisions as their nodes reported them (global node).

`projection.project_events` reads each batch of events the ingest stores (`node/ingest`), in the
same transaction, into the tables of `models`: the global registry's certificates and cities
(served by `node/registry` with the same code as a national node's registry), each node's
decisions, the cities' requests for technical assistance by gap (`assistance` counts them
across the federation, `routes` serves the count), and the anomalies the events show (a
certificate without its decision, a decision without quorum, ...), which `node/monitoring`
reports.
"""
