"""livegan: train a GAN on your own audio loops, then play it live."""
__version__ = "0.1.0"
