"""Code shared by every service. Services import from here, never from each other."""
