"""The control thread and its sources: knob maths, the performer's state, admission into the engine,
the live control loop, tempo sources, the computer keyboard and patches.

It writes plain numbers and immutable batches that the audio thread admits at a block's first frame;
it never calls into the audio thread and never waits on it.
"""
