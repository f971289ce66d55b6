"""hashdemo's defaults in one place: the model every face opens on, and what a new page shows first."""

DEFAULT_MODEL = "zoo:fashion-dpsh-smallcnn-32"
DEFAULT_ZOO_CHOICE = {"dataset": "fashion", "backbone": "smallcnn", "method": "dpsh", "bits": 32}
