"""The architecture seam: one ``Arch`` object per value of a preset's ``arch``, found by name in ``ARCHS``.

An architecture is one module that subclasses ``Arch`` and registers an instance (``register``): its
preset class (``train.config.Preset``, or a subclass adding the fields only it reads, so another
architecture's preset has no such field to set), its checks, its generator and discriminator, its
training step, its playing form for export and what it takes from the training loops. The trainer,
export and the report ask the object; none of them names an architecture. The built-in ones,
``train.waveform`` (dcgan, wavegan) and ``train.spectral_arch`` (spectral), register when
``train.presets`` imports them; this module imports no other of the project's, so every module may
import it without a cycle.
"""
from __future__ import annotations


class Arch:
    """What the trainer and export need of one architecture; subclasses override what they change."""

    name: str = ""
    preset_class: type = None  # train.config.Preset or a subclass: the fields this architecture reads

    def check(self, p) -> None:
        """Raise ValueError naming the field if ``p`` cannot train with this architecture (after the
        checks every preset gets: types, ranges, choices, tempo)."""

    def build_generator(self, p):
        """z (B, latent_dim) -> loops (B, channels, loop_samples); has ``head(z)`` for GANSpace."""
        raise NotImplementedError

    def build_discriminator(self, p):
        raise NotImplementedError

    def new_state(self, s) -> None:
        """Called once ``train.state.make_state`` has built ``s``: add what this architecture keeps
        beside G and D (``s.g_ema``, ``s.extra``) that a checkpoint restores."""

    def fitted(self, p, loops, resume: bool):
        """The preset fitted to the training loops (N, C, L), or ``p`` as it is; ``resume``: ``p`` comes
        from a checkpoint, so a change is the data folder's and is refused (ValueError)."""
        return p

    def start(self, s, loops, fresh: bool) -> None:
        """Before the first step of this session: what the step needs from the loops, and where
        ``fresh`` (no checkpoint to restore), G's data-driven initialisation."""

    def step(self, s, batches) -> dict:
        """One training step: {"loss_d", "loss_g", and any other curve to keep in the history}."""
        raise NotImplementedError

    def playing_form(self, g):
        """The module a trained generator ``g`` (eval mode) exports as: the same function, laid out for
        one fast CPU call where the architecture has such a layout."""
        return g


ARCHS: dict[str, Arch] = {}


def register(arch: Arch) -> Arch:
    """Make ``arch`` the one of its name (a preset's ``arch`` field selects it)."""
    if not arch.name or arch.preset_class is None:
        raise ValueError(f"{type(arch).__name__}: an architecture needs a name and a preset_class")
    ARCHS[arch.name] = arch
    return arch


def names() -> tuple[str, ...]:
    return tuple(ARCHS)


def get(name) -> Arch:
    """The registered architecture of that name; ValueError naming the choices otherwise."""
    if isinstance(name, str) and name in ARCHS:
        return ARCHS[name]
    raise ValueError(f"arch must be {' or '.join(repr(n) for n in ARCHS)}, got {name!r}")
