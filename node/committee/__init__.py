"""The certification committee (§25, §26, §28), one module per part of its work:

- `roster`: the members and their terms, and who sits on a given day;
- `meetings`: scheduling, opening and closing meetings, attendance and the generated agendas;
- `voting`: votes and recusals on agenda items, and the quorum they are counted against
  (the rule itself is `quorum`);
- `decisions`: deciding or deferring an item, with its `decision.recorded` event;
- `effects`: what a decision carries out in the same transaction (a certificate issued, its
  status changed, a framework endorsed);
- `planning`: a year's meetings at once; `report`: a meeting's report.
"""
