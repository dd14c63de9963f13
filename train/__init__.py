"""The offline half: a folder of loops -> a trained GAN -> one TorchScript loop-model file.

Split by stage (config, archs and one module per architecture, data, augment, models, losses, state,
checkpoint, selection, trainer, logmel_metrics, band_metrics, export, report). Imports from livegan only
the model contract (``livegan.model``), the errors and the pure DSP kernels; the real-time half never
imports this package.
"""
