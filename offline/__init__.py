"""The product run on this machine, without AWS: the process environment every offline run shares."""
