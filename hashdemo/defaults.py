"""hashdemo's defaults in one place: the model every face opens on, and what a new page shows first."""

DEFAULT_MODEL = "zoo:fashion-dpsh-smallcnn-32"
DEFAULT_ZOO_CHOICE = {"dataset": "fashion", "backbone": "smallcnn", "method": "dpsh", "bits": 32, "variant": "standard"}
# The opening query: measured so that every attack kind visibly works on it under the lab protocol (eps 16/255,
# T = 100): HAG and PgA bring its P@10 from 1.0 to 0.0, and P2P, DHTA, THA, DHTA + I-FGSM and the feature attack
# all reach the target that seed 0 draws for it (Coat) and 6 of its 8 other targets (README, "The Attack Lab").
OPENING_QUERY = ("Sandal", 0)
