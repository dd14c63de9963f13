"""Edge threads and files: MIDI input, the performance log and its journal, the take recorder and
take naming, MIDI files, the terminal panel and the show's numbers, stop signals.

Each thread here only moves data between the outside world and plain state (rings, last-value
stores); none may block the audio or the control thread, and every file a user hands in is read as
data, never run.
"""
