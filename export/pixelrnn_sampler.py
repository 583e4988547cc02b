"""Host-side sampling loop for an exported PixelRNN / PixelCNN ``.tflite`` file (one step per invoke).

The ``.tflite`` file maps a (partial) image to the logits of every position given the pixels
before it (``tfgan export`` of a ``pixelrnn`` run writes ``NAME_QUANT.tflite``)::

    serve: images float32 [1, H, W, C] in [0, 1] (binary: 0 / 1; L levels: level / (L - 1))
           -> logits float32 [1, H, W, C] (binary) or [1, H, W, C, L]

Sampling visits the H * W * C positions in raster order, then channel order, and draws each
from its logits with noise from a uniform array ``u`` (one value per position, and per level):

* binary: on when ``logit > log u - log(1 - u)`` (logistic noise: P(on) = sigmoid(logit));
* levels: ``argmax(logits - log(-log u))`` (Gumbel-max).

Given the uniform noise ``PixelRNN.sample`` draws (``stateless_uniform(seed=(seed, 0))``), this loop
gives the same images; by default ``u`` comes from NumPy's ``RandomState(seed)``. Needs only NumPy and
``ai-edge-litert`` (``pip install ai-edge-litert``; Pillow to write PNGs)::

    python export/pixelrnn_sampler.py export/models/pixelrnn-demo/1/tflite/pixelrnn-demo_none.tflite \\
        --n 4 --seed 0 --out samples/
"""

import argparse
import os
import sys

import numpy as np

NOISE_RANGE = (1e-7, 1.0 - 1e-7)


class Sampler:
    """Runs the ``serve`` signature of a PixelRNN ``.tflite`` file: likelihoods, samples, completions."""

    def __init__(self, path, num_threads=1):
        from ai_edge_litert.interpreter import Interpreter

        self.runner = Interpreter(model_path=os.fspath(path), num_threads=int(num_threads)).get_signature_runner("serve")
        self.shape = tuple(int(d) for d in self.runner.get_input_details()["images"]["shape"][1:])  # (H, W, C)
        out = tuple(int(d) for d in self.runner.get_output_details()["logits"]["shape"][1:])
        self.levels = out[3] if len(out) == 4 else 2
        self.binary = len(out) == 3

    # ----------------------------------------------------------------- units
    def to_units(self, images):
        """uint8 images (N, H, W, C) -> .tflite units (binary: byte >= 128 is on; levels: round(byte (L-1) / 255))."""
        images = np.asarray(images)
        if images.dtype != np.uint8:
            raise ValueError(f"images must be uint8, received {images.dtype}.")
        if self.binary:
            return (images >= 128).astype("float32")
        return (np.round(images.astype("float64") * (self.levels - 1) / 255.0) / (self.levels - 1)).astype("float32")

    def to_uint8(self, units):
        return np.clip(np.round(np.asarray(units, "float64") * 255.0), 0, 255).astype("uint8")

    def noise_shape(self, n):
        return (int(n), *self.shape) + (() if self.binary else (self.levels,))

    # ------------------------------------------------------------------ steps
    def logits(self, units):
        """Logits of every position, one invoke per image: (N, H, W, C[, L])."""
        units = np.asarray(units, "float32")
        return np.concatenate([self.runner(images=units[i : i + 1])["logits"] for i in range(len(units))])

    def log_prob(self, images):
        """Log-likelihood in nats per uint8 image, (N,)."""
        units = self.to_units(images)
        logits = self.logits(units).astype("float64")
        if self.binary:  # log sigmoid(l) for on, log sigmoid(-l) for off
            signed = np.where(units > 0.5, logits, -logits)
            per_dim = -np.logaddexp(0.0, -signed)
        else:
            levels = np.round(units * (self.levels - 1)).astype(int)
            shifted = logits - logits.max(axis=-1, keepdims=True)
            log_softmax = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
            per_dim = np.take_along_axis(log_softmax, levels[..., None], -1)[..., 0]
        return per_dim.reshape(len(units), -1).sum(axis=1)

    def sample(self, n=1, seed=0, uniform=None, images=None, rows=0):
        """uint8 images (n, H, W, C) drawn one position at a time.

        ``uniform``: noise in (0, 1) of shape (n, H, W, C[, L]) (default: ``RandomState(seed)``);
        ``images`` + ``rows``: keep the top ``rows`` rows of these uint8 images and draw the rest.
        """
        h, w, c = self.shape
        if uniform is None:
            uniform = np.random.RandomState(seed).uniform(*NOISE_RANGE, self.noise_shape(n))
        uniform = np.asarray(uniform, "float64")
        n = len(uniform)
        if uniform.shape != self.noise_shape(n):
            raise ValueError(f"uniform noise must have shape {self.noise_shape(n)}, received {uniform.shape}.")
        noise = np.log(uniform) - np.log1p(-uniform) if self.binary else -np.log(-np.log(uniform))
        canvas = np.zeros((n, h, w, c), "float32")
        if images is not None:
            canvas[:, :rows] = self.to_units(images)[:, :rows]
        for k in range(n):
            for i in range(int(rows) * w * c, h * w * c):
                r, col, ch = i // (w * c), (i // c) % w, i % c
                logits = self.runner(images=canvas[k : k + 1])["logits"][0, r, col, ch]
                if self.binary:
                    canvas[k, r, col, ch] = 1.0 if logits > noise[k, r, col, ch] else 0.0
                else:
                    canvas[k, r, col, ch] = np.argmax(logits + noise[k, r, col, ch]) / (self.levels - 1)
        return self.to_uint8(canvas)


def main(argv=None):
    parser = argparse.ArgumentParser(description="Sample an exported PixelRNN .tflite file on the host.")
    parser.add_argument("tflite", help="the .tflite file (tfgan export of a pixelrnn run)")
    parser.add_argument("--n", type=int, default=4, help="number of images")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="samples", help="folder for the PNGs")
    args = parser.parse_args(argv)
    from PIL import Image

    sampler = Sampler(args.tflite)
    images = sampler.sample(args.n, args.seed)
    os.makedirs(args.out, exist_ok=True)
    for i, (image, lp) in enumerate(zip(images, sampler.log_prob(images))):
        path = os.path.join(args.out, f"sample_{i:03d}.png")
        Image.fromarray(image[..., 0] if image.shape[-1] == 1 else image).save(path)
        print(f"{path}  log p = {lp:.2f} nats")
    return 0


if __name__ == "__main__":
    sys.exit(main())
