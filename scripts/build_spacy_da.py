"""Build the project's Danish spaCy pipeline: blank `da` + the lookup lemmatizer.

There is no Danish spaCy model package on the registry, so the pipeline is made here from
spaCy's Danish tokenizer rules and the Danish lemma table in spacy-lookups-data. The result is
the same for the same pinned versions; config.yml loads it by path (build/spacy-da).

    python scripts/build_spacy_da.py build/spacy-da
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import spacy
import spacy_lookups_data

NAME = "traeningsguide_da"
VERSION = "1.0.0"
# A check that the lemma table is really loaded: inflected forms citizens type -> lemma.
EXPECTED_LEMMAS = {"sygehusene": "sygehus", "kørslen": "kørsel", "koster": "koste", "udskrevet": "udskrive"}


def build(target: Path) -> None:
    nlp = spacy.blank("da")
    nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    nlp.initialize()
    nlp.meta.update({"name": NAME, "version": VERSION, "description":
                     "Blank Danish pipeline with the lookup lemmatizer from spacy-lookups-data "
                     f"{spacy_lookups_data.__version__}, built by scripts/build_spacy_da.py"})
    doc = nlp(" ".join(EXPECTED_LEMMAS))
    got = {token.text: token.lemma_ for token in doc}
    if got != EXPECTED_LEMMAS:
        raise SystemExit(f"Danish lemmatizer did not load its lookup table: {got}")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    nlp.to_disk(tmp)
    shutil.rmtree(target, ignore_errors=True)
    tmp.rename(target)
    lemmas = json.dumps(got, ensure_ascii=False)
    print(f"      built {target} ({NAME} {VERSION}, spaCy {spacy.__version__}); lemmas: {lemmas}")


if __name__ == "__main__":
    build(Path(sys.argv[1] if len(sys.argv) > 1 else "build/spacy-da"))
