"""The offline half: a folder of loops -> a trained GAN -> one TorchScript loop-model file.

Split by stage (config, data, augment, models, losses, step, checkpoint, selection, trainer, metrics,
export, report). Imports from livegan only the model contract (``livegan.model``), the errors and the
pure DSP kernels; the real-time half never imports this package.
"""
