"""Out-of-tree backend plugins for Genesis's tests (not part of any release)."""
