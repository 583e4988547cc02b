"""Export: generators to TF Serving SavedModels and TFLite / LiteRT files, with gates.

Public API::

    from tfgan_models import export
    export.export_run("runs/dcgan-demo", "export/models")          # everything, version 1
    export.export_saved_model(generator, "export/models", name="g")
    export.export_tflite("runs/dcgan-demo", "/tmp/mobile", quantization="int8")

Every export compares each artifact with the Keras generator on fresh inputs
(:mod:`tfgan_models.export.gates`), writes ``ROOT/NAME/VERSION/`` atomically,
refuses to replace a version unless asked, and records figures, file sizes and
I/O specs in ``ROOT/NAME/export_report.json``. Layout and signatures:
:mod:`tfgan_models.export.exporter`, :mod:`tfgan_models.export.saved_model`,
:mod:`tfgan_models.export.tflite`.
"""

from tfgan_models.export.exporter import FORMATS, REPORT, export_run, export_saved_model, export_tflite
from tfgan_models.export.gates import MAX_ABS_DIFF, MIN_PSNR_DB, GateError
from tfgan_models.export.tflite import QUANTIZATIONS

__all__ = ["FORMATS", "MAX_ABS_DIFF", "MIN_PSNR_DB", "QUANTIZATIONS", "REPORT", "GateError",
           "export_run", "export_saved_model", "export_tflite"]
