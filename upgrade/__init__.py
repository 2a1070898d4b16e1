"""`make upgrade-drill`: orders started on the previous workflow code finish on the current.

The drill starts the fleet with the orchestrator running a baseline commit's code
(checked out into a temporary tree), leaves orders at every wait point, upgrades the
orchestrator replica by replica, and proves that each order completes on the path it
started on with one net charge, while new orders take the new path.
"""
