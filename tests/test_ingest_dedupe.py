"""Near-duplicate detection: wire stories under other headers/footers match; different stories do not."""

from __future__ import annotations

import itertools
import json
import os
import random
import subprocess
import sys
from pathlib import Path

import numpy as np

from newsner.corpus.signatures import WORD, NearDuplicateIndex, linked, shingle_hashes
from newsner.ingest.drafts import InputFile, ReadOptions
from newsner.ingest.readers import read_file

RAW = Path(__file__).resolve().parents[1] / "corpus" / "raw"

STORY = [
    "Separatist rebels in northern Kessara said on Friday they had killed dozens of soldiers and Russian "
    "mercenaries in an ambush on a military supply convoy near the town of Ber-Ouzal.",
    "The Northern Liberation Coalition said its fighters attacked a column of around 40 vehicles on Thursday "
    "afternoon on the road between Ber-Ouzal and Anefrou, destroying 12 trucks.",
    '"More than 30 soldiers of the junta were killed, and we captured four others," spokesman Habib Ag Elmehdi '
    "told reporters by telephone. He said two rebel fighters had died in the fighting.",
    "The army said in a statement that the convoy had repelled a complex attack by terrorist groups and that its "
    "units had killed about fifteen assailants. It acknowledged five dead among its own troops.",
    "Access to the area is restricted and telephone networks are often cut during military operations, so "
    "neither account could be verified independently.",
    "The road is the main supply route for army positions in the far north, which the junta has made a priority "
    "to hold since it retook the regional capital in late 2023.",
]


def _sample_texts() -> dict[str, str]:
    texts = {}
    for path in sorted(RAW.iterdir()):
        result = read_file(InputFile(path.name, path, {".html": "html", ".txt": "txt", ".jsonl": "jsonl",
                                                       ".csv": "csv"}[path.suffix], path.stat().st_size),
                           ReadOptions(max_bytes=10_000_000))
        for draft in result.drafts:
            texts[f"{path.name}:{draft.line or 0}"] = draft.text
    return texts


def test_wire_story_republished_with_other_header_footer_and_edits_matches() -> None:
    original = "WEST AFRICA WIRE\n\nSORBAYA (WAW) - " + "\n\n".join(STORY) + "\n\n(Reporting by Fatou Diarra)"
    edited = list(STORY)
    edited[0] = edited[0].replace("said on Friday", "said Friday")
    edited[2] = edited[2].replace("by telephone", "by phone").replace("had died", "died")
    edited = edited[:-1]  # the republisher cut the last paragraph
    republished = ("Kessara Daily republishes this report from our partner West Africa Wire.\n\n"
                   + "\n\n".join(edited) + "\n\nGet the Kessara Daily morning briefing in your inbox.")
    index = NearDuplicateIndex()
    index.add("wire", index.signature(original))
    assert index.match(index.signature(republished)) == "wire"


def test_sample_near_duplicate_pair_and_no_false_positives() -> None:
    texts = _sample_texts()
    assert len(texts) >= 10
    index = NearDuplicateIndex()
    sigs = {key: index.signature(text) for key, text in texts.items()}
    pair = {"kessara-daily-ber-ouzal-convoy.html:0", "waw-ber-ouzal-convoy.txt:0"}
    for a, b in itertools.combinations(sorted(texts), 2):
        similar = sigs[a].jaccard(sigs[b]) >= index.threshold
        assert similar == ({a, b} == pair), (a, b, sigs[a].jaccard(sigs[b]))


def test_clusters_point_at_the_first_seen_article() -> None:
    base = "\n\n".join(STORY)
    index = NearDuplicateIndex()
    index.add("first", index.signature(base))
    second = base.replace("on Friday", "on Saturday")
    assert index.match(index.signature(second)) == "first"
    index.add("second", index.signature(second), duplicate_of="first")
    third = second.replace("about fifteen", "some fifteen")
    assert index.match(index.signature(third)) == "first"  # not "second": clusters stay flat
    unrelated = ("The central bank left its main interest rate unchanged on Wednesday, citing slowing inflation "
                 "and weak growth in the cotton and gold sectors, and said it would review its policy in June.")
    assert index.match(index.signature(unrelated)) is None


def test_texts_without_spaces_use_character_shingles() -> None:
    story = ("一个约定，信守15年，感人至深；一段真情，延续15年，催人泪下。"
             "6月3日上午，话剧《约定无期限》全省各市巡演活动来到张家口。"
             "话剧结尾，当扮演河北农大果树93班毕业生的全体演员喊出铿锵誓言时，"
             "全场响起经久不息的掌声，许多观众流下感动的泪水。")
    other = "今天天气很好，我们去公园散步，看见很多人在跑步、打球和放风筝，孩子们玩得非常开心。" * 2
    index = NearDuplicateIndex()
    index.add("zh", index.signature(story))
    assert index.match(index.signature(story.replace("6月3日上午", "6月4日上午"))) == "zh"
    assert index.match(index.signature(other)) is None


def test_signatures_are_stable_across_processes() -> None:
    """Signatures of the corpus are computed in one process and of new articles in another (--jobs)."""
    text = "\n\n".join(STORY)
    code = ("import sys; from newsner.corpus.signatures import NearDuplicateIndex as I; "
            "sys.stdout.write(','.join(map(str, I().signature(sys.stdin.read()).digest())))")
    out = subprocess.run([sys.executable, "-c", code], input=text, capture_output=True, text=True, check=True,
                         env={"PYTHONHASHSEED": "12345", "PATH": "", "PYTHONPATH": os.environ.get("PYTHONPATH", "")})
    here = NearDuplicateIndex().signature(text).digest()
    assert np.array_equal(np.array(out.stdout.split(","), dtype=np.uint64), here.astype(np.uint64))


def test_short_texts_still_get_a_signature() -> None:
    assert len(shingle_hashes("Kidal")) == 1
    assert len(shingle_hashes("")) == 1
    assert len(shingle_hashes("one two three")) == 1


def _re3d_documents(shared_data: Path) -> list[str]:
    docs = []
    for source in sorted(p for p in (shared_data / "re3d").iterdir() if p.is_dir()):
        for line in (source / "documents.json").read_text(encoding="utf-8").splitlines():
            if line.strip() and len((text := json.loads(line)["text"]).split()) >= 80:
                docs.append(text)
    return docs


def _shingle_set(text: str) -> set[tuple[str, ...]]:
    words = WORD.findall(text.lower())
    return {tuple(words[i:i + 5]) for i in range(max(1, len(words) - 4))}


def test_recall_and_precision_on_pairs_built_from_real_conflict_documents(shared_data: Path) -> None:
    """Edited copies at Jaccard >= 0.5 and stories quoted in roundups are found; distinct stories are not."""
    docs = _re3d_documents(shared_data)
    assert len(docs) >= 60
    rng = random.Random(7)
    index = NearDuplicateIndex()
    for n, doc in enumerate(docs):
        index.add(f"doc{n}", index.signature(doc))
    found = total = 0
    for n, doc in enumerate(docs):
        words = doc.split()
        edited = " ".join(rng.choice(words) if rng.random() < 0.03 else w for w in words if rng.random() > 0.02)
        copy = f"Republished from a partner. {edited} Sign up for our newsletter."
        a, b = _shingle_set(doc), _shingle_set(copy)
        if len(a & b) / len(a | b) >= 0.5:
            total += 1
            found += index.match(index.signature(copy)) == f"doc{n}"
    assert total >= 50 and found / total >= 0.95, (found, total)
    embedded = 0
    for n, doc in enumerate(docs):
        others = rng.sample([d for m, d in enumerate(docs) if m != n and not d.startswith("On Jan.")], 3)
        page = "Today's roundup.\n\n" + "\n\n".join([others[0], doc, *others[1:]])
        probe = NearDuplicateIndex()
        probe.add("story", probe.signature(doc))
        embedded += probe.match(probe.signature(page)) == "story"
    assert embedded / len(docs) >= 0.95, embedded
    sigs = [index.signature(d) for d in docs]
    for i, j in itertools.combinations(range(len(docs)), 2):
        a, b = _shingle_set(docs[i]), _shingle_set(docs[j])
        if len(a & b) / min(len(a), len(b)) < 0.5:  # distinct stories (not one template filled in twice)
            assert not linked(sigs[i], sigs[j]), (docs[i][:80], docs[j][:80])
