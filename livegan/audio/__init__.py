"""The audio thread: the engine's ``process(out)``, its numba kernels, the loop bank, the transport,
the effects chain and the output backend (and the offline resampler, ``resample``, which is not real-time).

Everything here that runs per block allocates nothing, takes no lock, logs nothing and waits on
nothing. This package imports nothing from ``livegan.control``, ``livegan.io`` or
``livegan.commands``, and never torch: the audio thread must not be able to touch them.
"""
