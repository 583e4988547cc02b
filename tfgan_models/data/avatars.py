"""Labelled cartoon faces rendered on this machine: ``python-avatars`` parts, rasterised by ``cairosvg``.

No face data set can be downloaded here, but the parts of an avatar are
independent, so the *same* face can be rendered with and without an
attribute: exact labels for every part, and paired edits with an exact ground
truth. Install the optional extra: ``pip install "tfgan_models[faces]"``
(``python-avatars`` and ``cairosvg``; cairo itself comes from the system,
``apt install libcairo2``).

A face is drawn from a seed: its **identity** (skin colour, hair type and
natural colour, eyes, eyebrows, clothing and its colour) and, independently
with probability 1/2 each, the four **edit attributes**:

==========  ==============================================  ======================================
attribute   on                                              off
==========  ==============================================  ======================================
Smile       mouth SMILE, BIG_SMILE or TWINKLE               mouth SERIOUS, SAD or CONCERNED
Glasses     accessory PRESCRIPTION_1, PRESCRIPTION_2, ROUND no accessory
GreyHair    hair (and beard) colour SILVER_GRAY             the identity's natural hair colour
Beard       facial hair BEARD_LIGHT, BEARD_MEDIUM,          none
            BEARD_MAGESTIC
==========  ==============================================  ======================================

Which variant an attribute takes when on (which glasses, which smile) and
when off is part of the face too, so switching one attribute changes only its
own part. Nothing hides the face: no hats, no sunglasses, no eye patch, and
the hair types are those that show their colour. The picture is a square
crop of the head and shoulders on a fixed grey-blue background.

**Held-out identities.** A face belongs to the ``test`` split when a hash of
its identity (not of its edit attributes) falls in one fifth of the range, so
no test identity is ever seen in training, with any attribute.

Renders are cached as ``.npz`` under ``<KERAS_HOME or ~/.keras>/tfgan_models/avatars``
(about 10 ms a face at 128 px; a second run reads the file).
"""

import io
import os
import re
import zlib

import numpy as np

EDITS = {  # attribute -> (avatar part, values when on, values when off)
    "Smile": ("mouth", ("SMILE", "BIG_SMILE", "TWINKLE"), ("SERIOUS", "SAD", "CONCERNED")),
    "Glasses": ("accessory", ("PRESCRIPTION_1", "PRESCRIPTION_2", "ROUND"), ("NONE",)),
    "GreyHair": ("hair_color", ("SILVER_GRAY",), None),  # off: the identity's natural colour
    "Beard": ("facial_hair", ("BEARD_LIGHT", "BEARD_MEDIUM", "BEARD_MAGESTIC"), ("NONE",)),
}
IDENTITY = {  # identity part -> its values (the classes a classifier reads)
    "skin": ("TANNED", "YELLOW", "PALE", "LIGHT", "BROWN", "DARK_BROWN", "BLACK"),
    "hair": ("BIG_HAIR", "BOB", "BUN", "CAESAR", "CURLY", "DREADS", "FRO", "FRIZZLE", "LONG_NOT_TOO_LONG",
             "MIA_WALLACE", "SHAGGY", "SHORT_FLAT", "SHORT_WAVED", "STRAIGHT_1", "PIXIE", "QUIFF"),
    "clothing": ("BLAZER_SHIRT", "BLAZER_SWEATER", "COLLAR_SWEATER", "GRAPHIC_SHIRT", "HOODIE", "OVERALL",
                 "SHIRT_CREW_NECK", "SHIRT_SCOOP_NECK", "SHIRT_V_NECK"),
    "eyes": ("DEFAULT", "HAPPY", "SIDE", "SQUINT", "SURPRISED", "WINK"),
}
NATURAL_HAIR = ("AUBURN", "BLACK", "BLONDE", "BLONDE_GOLDEN", "BROWN", "BROWN_DARK", "RED", "PASTEL_PINK")
EYEBROWS = ("DEFAULT", "DEFAULT_NATURAL", "FLAT_NATURAL", "RAISED_EXCITED", "UP_DOWN", "ANGRY", "SAD_CONCERNED")
CLOTHING_COLORS = ("BLACK", "BLUE_01", "BLUE_02", "BLUE_03", "GRAY_01", "GRAY_02", "HEATHER", "PASTEL_BLUE",
                   "PASTEL_GREEN", "PASTEL_ORANGE", "PASTEL_YELLOW", "PINK", "RED", "WHITE")
ATTRIBUTES = tuple(EDITS) + tuple(IDENTITY)  # every label a face carries
SIZES = (64, 128, 256)
BACKGROUND = "#E4EAF0"
VIEW_BOX = "22 15 220 220"  # a square around head and shoulders of python-avatars' 264x280 canvas
TEST_SHARE = 5  # one identity in 5 is held out
CACHE_VERSION = "v1"
INSTALL = 'pip install "tfgan_models[faces]"  (python-avatars and cairosvg; cairo from apt install libcairo2)'


class MissingFacesExtra(ImportError, ValueError):
    """The optional ``faces`` extra is not installed: a set-up problem the CLI reports in one line (exit 2)."""


def require():
    """``(python_avatars, cairosvg)``; a clear error saying how to install them when missing."""
    try:
        import cairosvg
        import python_avatars
    except (ImportError, OSError) as err:  # OSError: cairosvg installed but the system cairo library missing
        raise MissingFacesExtra(f"avatar faces need python-avatars and cairosvg ({err}); install them with: "
                                f"{INSTALL}") from None
    return python_avatars, cairosvg


def check_attribute(name, binary=False):
    """``name`` if it is a known attribute (an edit attribute when ``binary``); an error listing them otherwise."""
    known = tuple(EDITS) if binary else ATTRIBUTES
    if name not in known:
        raise ValueError(f"unknown avatar attribute {name!r}; known: {', '.join(known)}.")
    return name


def classes(attribute):
    """The class names of an attribute: ``("no", "yes")`` for edits, the part values for identity parts."""
    return ("no", "yes") if check_attribute(attribute) in EDITS else IDENTITY[attribute]


# ------------------------------------------------------------------ faces
def _identity_key(face):
    return "|".join(str(face[k]) for k in ("skin", "hair", "clothing", "eyes", "natural_hair", "eyebrows",
                                           "clothing_color"))


def split_of(face):
    """``"test"`` for the held-out fifth of identities, ``"train"`` otherwise (edit attributes do not count)."""
    return "test" if zlib.crc32(_identity_key(face).encode()) % TEST_SHARE == 0 else "train"


def draw_face(seed, index):
    """One face: a dict of identity parts (class indices), edit attributes (0/1) and each edit's two variants."""
    rng = np.random.default_rng([int(seed), int(index)])
    face = {part: int(rng.integers(len(values))) for part, values in IDENTITY.items()}
    face.update(natural_hair=int(rng.integers(len(NATURAL_HAIR))), eyebrows=int(rng.integers(len(EYEBROWS))),
                clothing_color=int(rng.integers(len(CLOTHING_COLORS))))
    for name, (_, on, off) in EDITS.items():
        face[name] = int(rng.integers(2))
        face[name + "_on"] = int(rng.integers(len(on)))
        face[name + "_off"] = int(rng.integers(len(off))) if off else 0
    return face


def draw_faces(n, split="train", seed=0):
    """The first ``n`` faces of ``split`` in the seed's stream (deterministic)."""
    if split not in ("train", "test"):
        raise ValueError(f"avatars have the splits 'train' and 'test'; received {split!r}.")
    faces, index = [], 0
    while len(faces) < int(n):
        face = draw_face(seed, index)
        if split_of(face) == split:
            faces.append(face)
        index += 1
    return faces


def with_attribute(face, attribute, value):
    """The same face with edit ``attribute`` set to ``value`` (0 or 1), every other part kept."""
    check_attribute(attribute, binary=True)
    return {**face, attribute: int(value)}


def labels(face):
    """``{attribute: class index}`` for every attribute of :data:`ATTRIBUTES`."""
    return {name: int(face[name]) for name in ATTRIBUTES}


def _parts(face):
    part = {name: (on[face[name + "_on"]] if face[name] else (off[face[name + "_off"]] if off else None))
            for name, (_, on, off) in EDITS.items()}
    hair_color = part["GreyHair"] or NATURAL_HAIR[face["natural_hair"]]
    return dict(skin_color=IDENTITY["skin"][face["skin"]], top=IDENTITY["hair"][face["hair"]],
                clothing=IDENTITY["clothing"][face["clothing"]], eyes=IDENTITY["eyes"][face["eyes"]],
                eyebrows=EYEBROWS[face["eyebrows"]], clothing_color=CLOTHING_COLORS[face["clothing_color"]],
                mouth=part["Smile"], accessory=part["Glasses"], facial_hair=part["Beard"], hair_color=hair_color)


def svg(face):
    """The face's SVG: python-avatars' drawing, cropped, with its masks turned into clip paths.

    python-avatars colours hair and skin through ``<mask>`` elements whose shape is the part itself;
    cairosvg renders those masks only in part (half a head of hair in the mask's fallback colour),
    and a clip path of the same shape is exactly equivalent here.
    """
    pa, _ = require()
    p = _parts(face)
    avatar = pa.Avatar(
        style=pa.AvatarStyle.TRANSPARENT, top=pa.HairType[p["top"]], eyebrows=pa.EyebrowType[p["eyebrows"]],
        eyes=pa.EyeType[p["eyes"]], nose=pa.NoseType.DEFAULT, mouth=pa.MouthType[p["mouth"]],
        facial_hair=pa.FacialHairType[p["facial_hair"]], skin_color=pa.SkinColor[p["skin_color"]],
        hair_color=pa.HairColor[p["hair_color"]], facial_hair_color=pa.HairColor[p["hair_color"]],
        accessory=pa.AccessoryType[p["accessory"]], clothing=pa.ClothingType[p["clothing"]],
        clothing_color=pa.ClothingColor[p["clothing_color"]], shirt_graphic=pa.ClothingGraphic.BAT,
        shirt_text="", hat_color=pa.ClothingColor.HEATHER)
    text = avatar.render()
    text = re.sub(r'width="264px" height="280px" viewBox="0 0 264 280"',
                  f'width="220" height="220" viewBox="{VIEW_BOX}"', text, count=1)
    text = re.sub(r"<mask (id=\"[^\"]*\")[^>]*>", r"<clipPath \1>", text).replace("</mask>", "</clipPath>")
    return text.replace('mask="url(', 'clip-path="url(')


def render(face, size=128):
    """uint8 ``(size, size, 3)`` picture of a face on the fixed background."""
    from PIL import Image

    _, cairosvg = require()
    png = cairosvg.svg2png(bytestring=svg(face).encode(), output_width=int(size), output_height=int(size),
                           background_color=BACKGROUND)
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype="uint8")


# ------------------------------------------------------------------ sets
def cache_dir():
    """``<KERAS_HOME or ~/.keras>/tfgan_models/avatars`` (read at call time)."""
    home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    return os.path.join(home, "tfgan_models", "avatars")


def _cached(key, make):
    """``make()`` -> dict of arrays, stored once as ``<cache>/<key>.npz`` (written whole, then renamed)."""
    path = os.path.join(cache_dir(), f"{CACHE_VERSION}-{key}.npz")
    if os.path.exists(path):
        try:
            with np.load(path) as stored:
                return {k: stored[k] for k in stored.files}
        except (OSError, ValueError, zlib.error):  # a damaged file is rendered again
            pass
    arrays = make()
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        partial = f"{path}.{os.getpid()}.partial"
        with open(partial, "wb") as f:
            np.savez(f, **arrays)
        os.replace(partial, path)
    except OSError:  # a read-only home: keep going without the cache
        pass
    return arrays


def _check(n, size):
    if int(size) not in SIZES:
        raise ValueError(f"avatars render at {', '.join(map(str, SIZES))} px; received {size!r}.")
    if int(n) < 1:
        raise ValueError(f"the number of faces must be >= 1, received {n!r}.")


def _label_arrays(faces):
    return {f"label_{name}": np.asarray([face[name] for face in faces], "int32") for name in ATTRIBUTES}


def faces(n=2000, size=128, split="train", seed=0):
    """``(images uint8 (n, size, size, 3), {attribute: int32 (n,)})``: the first ``n`` faces of ``split``."""
    _check(n, size)
    require()

    def make():
        drawn = draw_faces(n, split, seed)
        return {"images": np.stack([render(f, size) for f in drawn]), **_label_arrays(drawn)}

    arrays = _cached(f"faces-{split}-{int(n)}-{int(size)}-{int(seed)}", make)
    return arrays["images"], {name: arrays[f"label_{name}"] for name in ATTRIBUTES}


def pairs(attribute, n=2000, size=128, split="train", seed=0):
    """``(without, with, labels)``: the same ``n`` faces rendered without and with ``attribute``.

    ``labels`` are those of the faces' identity parts and other edits; ``attribute``'s own label is 0 in
    ``without`` and 1 in ``with``.
    """
    check_attribute(attribute, binary=True)
    _check(n, size)
    require()

    def make():
        drawn = draw_faces(n, split, seed)
        return {"without": np.stack([render(with_attribute(f, attribute, 0), size) for f in drawn]),
                "with": np.stack([render(with_attribute(f, attribute, 1), size) for f in drawn]),
                **_label_arrays(drawn)}

    arrays = _cached(f"pairs-{attribute}-{split}-{int(n)}-{int(size)}-{int(seed)}", make)
    found = {name: arrays[f"label_{name}"] for name in ATTRIBUTES}
    found[attribute] = np.zeros_like(found[attribute])
    return arrays["without"], arrays["with"], found


# ------------------------------------------------- translation data specs
FACES_PER_SPLIT = {"train": 2000, "test": 200}


def render_size(size):
    """The render size for crops of ``size`` px: the smallest of :data:`SIZES` at least as large."""
    return next((s for s in SIZES if s >= int(size)), SIZES[-1])


def domain_images(domain, split="train", size=128, seed=0):
    """uint8 faces of ``split`` matching ``domain`` (``[(attribute, wanted)]``, from ``parse_domains``)."""
    for attribute, _ in domain:
        check_attribute(attribute, binary=True)
    images, found = faces(FACES_PER_SPLIT[split], render_size(size), split, seed)
    keep = np.all([found[a] == int(wanted) for a, wanted in domain], axis=0)
    if not keep.any():
        raise ValueError(f"no {split} avatar has {domain}.")
    return images[keep]


def pair_images(attribute, split="train", size=128, seed=0):
    """``(without, with)`` uint8 renders of the same faces of ``split``."""
    without, with_, _ = pairs(attribute, FACES_PER_SPLIT[split], render_size(size), split, seed)
    return without, with_
