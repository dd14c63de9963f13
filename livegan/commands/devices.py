"""``livegan devices``: audio outputs and MIDI inputs. Imports no torch.

Thread: main.
"""
from __future__ import annotations

from livegan.io.midi_ports import quiet_stderr


def list_audio_outputs() -> list[dict]:
    """[{index, name, hostapi, channels, samplerate, default}] for every output device."""
    try:
        import sounddevice as sd
    except OSError as e:  # PortAudio library missing
        raise RuntimeError(f"PortAudio is not installed ({e}); on Debian: apt-get install libportaudio2") from None
    apis = sd.query_hostapis()
    default_out = sd.default.device[1] if sd.default.device else -1
    out = []
    for i, d in enumerate(sd.query_devices()):
        if d["max_output_channels"] > 0:
            out.append({"index": i, "name": d["name"], "hostapi": apis[d["hostapi"]]["name"],
                        "channels": d["max_output_channels"], "samplerate": d["default_samplerate"],
                        "default": i == default_out})
    return out


def list_midi_inputs() -> list[dict]:
    """[{api, index, name}] for every MIDI input of every rtmidi API that works here."""
    import rtmidi

    found = []
    for api in rtmidi.get_compiled_api():
        if api == rtmidi.API_RTMIDI_DUMMY:
            continue
        try:
            with quiet_stderr():
                m = rtmidi.MidiIn(api)
                ports = m.get_ports()
                m.delete()
        except Exception:  # an API with no server behind it (no ALSA seq, no JACK) lists nothing
            continue
        for i, name in enumerate(ports):
            found.append({"api": rtmidi.get_api_name(api), "index": i, "name": name})
    return found


def cli_devices(args) -> int:
    try:
        outs = list_audio_outputs()
    except RuntimeError as e:
        print(f"audio outputs: unavailable: {e}")
        outs = None
    if outs is not None:
        print("audio outputs:")
        if not outs:
            print("  (none: no sound card or audio server found; `livegan render` writes to a file instead)")
        for d in outs:
            mark = "*" if d["default"] else " "
            print(f" {mark}{d['index']:3d}  {d['name']}  [{d['hostapi']}, {d['channels']} ch, "
                  f"{d['samplerate']:.0f} Hz]")
    print("MIDI inputs:")
    ins = list_midi_inputs()
    if not ins:
        print("  (none: connect a controller, or use `--midi virtual` and connect to the 'livegan' port)")
    for d in ins:
        print(f"  {d['index']:3d}  {d['name']}  [{d['api']}]")
    return 0
