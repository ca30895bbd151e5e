"""Jobs: the run (sync -> check -> compose -> send) and how it is triggered."""
