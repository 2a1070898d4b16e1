"""The one definition of everything that crosses a process boundary in the fleet."""
