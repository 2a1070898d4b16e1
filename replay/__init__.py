"""Replay: recorded workflow histories and the replayer that checks today's code against them.

`replay.history` is the file format (small, readable JSON of a workflow instance's events),
`replay.replayer` feeds a history through the SDK's own orchestration executor with the
app's registry and names the first step where the code and the history part ways, and
`replay.record` (`make record-histories`) captures the histories from a running fleet.
"""
