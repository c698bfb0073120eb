"""What the platform puts in Temporal is sealed: encrypted and authenticated with its keys.

A history then holds no readable input, output or secret, and a payload, failure or
signal that some other Temporal client made (a completion forged with `temporal activity
complete`, a workflow started by hand) is known for what it is and never taken as the
platform's own.
"""
