"""Shared by tests, benchmarks and scripts; never imported by the instrument itself.

- ``tiny``: the tiny model's shape, metadata and stand-in sine generator;
- ``wiring``: the identity patch (CC n -> direction n, note n -> seed n), a performance built through it,
  and shows stepped by hand (OSC beside MIDI);
- ``synth``: deterministic bass and drum loops for training data;
- ``clock_sim``: the MIDI clock -> follower -> engine chain in simulated time;
- ``demo_check``: the demo render with its event log, and the switch-click analysis;
- ``midi_sender``: a second process playing MIDI into a performing livegan over JACK MIDI;
- ``faulty_models``: models that raise, return NaN, the wrong shape, or take too long, one whose forward() writes a
  file (the allow-list tests), and a perform run with
  seed notes;
- ``sigkill_take``: perform SIGKILLed mid-take, and the journal's re-render;
- ``jackd``: a named JACK dummy server (``jackd -n NAME``) that leaves the default server alone;
- ``osc_sender``: a second process playing OSC into a performing livegan, and a flood of malformed packets;
- ``netns``: a private network namespace with loopback only (``unshare -n``), for Ableton Link;
- ``link_show``: a performance following a Link session in real time, with a second peer;
- ``link_peer``: a plain Ableton Link peer (LinkPython-extern only) that ``link_show`` runs;
- ``alloc``: ``steady(step, calls)``, the allocation tests' measure (what a real-time step keeps or peaks at
  per span of calls, counting only the measuring thread's allocations), and ``in_package``;
- ``wait``: ``wait_until(pred, timeout, step)``, the one readiness poll tests wait with instead of fixed sleeps;
- ``switches``: what the end-to-end tests ask of a live show's loop switches (at the first bar line after a
  change, or after a loop the engine logged as late).
"""
