"""``fastseg demo``: a live test stream recorded, served and cut on this machine (``make run``)."""
