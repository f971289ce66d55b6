"""A guided lecture: steps that each open a page with the settings that show one idea, with a short text.

Each step's settings were checked to show what its text says (tests/test_lecture.py runs them).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Step:
    title: str
    page: str  # a file under pages/
    params: dict[str, str] = field(default_factory=dict)  # the page's URL settings; run=1 runs on arrival
    text: str = ""


LECTURE: tuple[Step, ...] = (
    Step(
        "1. Clean retrieval",
        "pages/how_hashing_works.py",
        {"qclass": "Sandal", "qindex": "0"},
        "A query becomes K numbers, their signs a K-bit code; the system returns the database items with the "
        "fewest differing bits. Items of the query's class crowd the smallest distances.",
    ),
    Step(
        "2. HAG: flee your own code",
        "pages/attack_lab.py",
        {"attack": "hag", "qclass": "Sandal", "qindex": "0", "run": "1"},
        "The first attack on hashing (Yang et al. 2018) maximises the Hamming distance between the adversarial "
        "code and the query's own code, with a tanh(alpha H) schedule against vanishing gradients. Within "
        "16/255 per pixel, most bits flip and the top 10 fill with other classes.",
    ),
    Step(
        "3. PgA and its pharos code",
        "pages/attack_lab.py",
        {"attack": "pga", "qclass": "Sandal", "qindex": "0", "run": "1"},
        "PgA asks where the query's class lives: the pharos code is the code closest to the codes of relevant "
        "training items and farthest from the rest (a weighted vote, PgA Eq. 7). Fleeing it beats fleeing the "
        "query's own code, in 100 PGD steps instead of 2000.",
    ),
    Step(
        "4. DHTA and its anchor vote",
        "pages/attack_lab.py",
        {"attack": "dhta", "qclass": "Sandal", "qindex": "0", "target": "Bag", "run": "1"},
        "A targeted attack picks the label to return. DHTA's anchor code is the bitwise majority vote of nine "
        "codes of that label, provably the code nearest to all nine; the attack pulls the query's code to it.",
    ),
    Step(
        "5. THA: a learned prototype",
        "pages/attack_lab.py",
        {"attack": "tha", "qclass": "Sandal", "qindex": "0", "target": "Bag", "run": "1"},
        "THA trains a small network that maps a label to its prototype code, fitted to every training code "
        "(once per model; the first run trains it). The prototype represents the class better than a vote of nine.",
    ),
    Step(
        "6. ProS-GAN: one forward pass",
        "pages/attack_lab.py",
        {"attack": "prosgan", "qclass": "Sandal", "qindex": "0", "target": "Bag", "run": "1"},
        "A generator trained once against the model turns any query and any target label into an adversarial "
        "query without a single gradient step at attack time. The paper bounds no L-inf norm: look at the "
        "perturbation, then at the ProS-GAN page's grid of queries by targets.",
    ),
    Step(
        "7. Defences: adversarial training",
        "pages/robustness.py",
        {
            "models": [
                "zoo:fashion-dph-smallcnn-32",
                "zoo:fashion-dph-smallcnn-32-atrdh",
                "zoo:fashion-dph-smallcnn-32-pharos-at",
            ],
            "attacks": ["pga", "hag"],
            "queries": "100",
        },
        "Training on adversarial examples (ATRDH; pharos codes, PgA Eq. 16) keeps MAP higher under attack, at some "
        "cost in clean MAP. The curves put each model's MAP against epsilon side by side.",
    ),
    Step(
        "8. The papers' table",
        "pages/compare.py",
        {"protocol": "pgd", "queries": "100"},
        "Every attack on the same 100 queries with the same budget: MAP (lower = stronger non-targeted attack), "
        "t-MAP (higher = stronger targeted attack), and the target codes themselves as queries.",
    ),
)
