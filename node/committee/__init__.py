"""The certification committee (§25, §26, §28): members and their terms, meetings, generated
agendas, the quorum, votes, decisions carried out in the same transaction, meeting reports."""
