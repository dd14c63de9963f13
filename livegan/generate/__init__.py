"""The generator: a thread that turns control snapshots into loops (``process``: a child-process form
the benchmarks measure).

It reads the controls' snapshot, runs the model, checks the loop and publishes it into a free bank
slot ahead of the boundary it is for. It must never write a slot that plays, and never block the
audio thread: a late loop means the current one keeps playing.
"""
