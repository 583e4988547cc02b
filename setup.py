from setuptools import find_packages, setup

setup(
    name="tfgan_models",
    version="0.1.0",
    description="GAN models on TensorFlow 2 / Keras 3: train with model.fit, ship to TF Serving and TFLite.",
    long_description=open("README.md").read(),
    long_description_content_type="text/markdown",
    python_requires=">=3.10",
    packages=find_packages(include=["tfgan_models", "tfgan_models.*"]),
    install_requires=[
        "tensorflow>=2.20,<2.22",  # 2.20 and 2.21 pass the tests (Keras 3.12 and 3.15)
        "keras>=3.12,<4",  # TensorFlow 2.21 itself needs >= 3.12
        "tensorboard>=2.20",
        "tensorflow-datasets>=4.9",
        "importlib_resources>=6",  # imported by tensorflow-datasets, which does not declare it
        "ai-edge-litert>=2.3",
        "scikit-learn>=1.5",
        "scikit-image>=0.24",
        "scipy>=1.11",
        "pillow>=10",
        "numpy>=1.26",
    ],
    extras_require={
        # only models that tokenize raw text in the graph (the text-to-image variants) need it;
        # its version must match TensorFlow's minor version
        "text": ["tensorflow-text>=2.20,<2.22"],
        # rendered cartoon faces (tfgan_models.data.avatars); cairosvg needs the system cairo library
        "faces": ["python-avatars>=1.4,<2", "cairosvg>=2.7,<3"],
        "test": ["pytest>=8", "pytest-xdist>=3.5", "nbclient>=0.10", "nbformat>=5.10", "ipykernel>=6",
                 "tensorflow-serving-api>=2.20,<2.22",  # export/client.py gRPC requests in tests
                 "python-avatars>=1.4,<2", "cairosvg>=2.7,<3"],  # the faces extra, tested too
    },
    entry_points={"console_scripts": ["tfgan=tfgan_models.cli:main"]},
)
