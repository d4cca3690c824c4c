"""A small annotated workspace, its `export hf`, and a tiny BERT base built locally (no download): a WordPiece
tokenizer trained with `tokenizers` on the export's words and a 2-layer BertConfig, saved with save_pretrained."""

from __future__ import annotations

import random
from pathlib import Path

from newsner.annotations.store import AnnotationStore
from newsner.corpus.store import Corpus
from newsner.schema import AnnotationRecord, Article, Span
from newsner.workspace import Workspace

ACTORS = ["Wagner fighters", "Malian soldiers", "JNIM militants", "the rebels", "Russian mercenaries", "gunmen"]
TOWNS = ["Kidal", "Gao", "Menaka", "Timbuktu", "Mopti", "Tessalit", "Ansongo", "Bourem"]
COUNTS = ["at least 12", "dozens", "five", "nearly 200", "31", "up to 90"]
SOURCES = ["a rebel spokesman", "the army", "a local official", "witnesses", "the UN mission"]
LEADS = ["", "🇲🇱🔥 ", "👍🏽 ", "BREAKING: "]


def sentence(rng: random.Random) -> tuple[str, list[tuple[str, str]]]:
    actor, town, count, source = rng.choice(ACTORS), rng.choice(TOWNS), rng.choice(COUNTS), rng.choice(SOURCES)
    text = f"{rng.choice(LEADS)}{actor} attacked {town} on Friday and {count} civilians were killed, {source} said."
    return text, [(actor, "ACTOR"), (town, "LOCATION"), (count, "CASUALTY"), (source, "CLAIM_SOURCE")]


def annotated_workspace(root: Path, n: int = 60, seed: int = 0) -> tuple[Workspace, list[Article]]:
    """`n` gold-annotated one-sentence articles (confirmed), every label present."""
    rng = random.Random(seed)
    ws = Workspace.at(root)
    articles, records = [], []
    for i in range(n):
        text, ents = sentence(rng)
        text = f"{text} Report {i}."
        a = Article.from_text(text, language="en")
        spans, at = [], 0
        for words, label in ents:
            start = text.index(words, at)
            spans.append(Span(start, start + len(words), label, words))
            at = start + len(words)
        articles.append(a)
        records.append(AnnotationRecord(a.id, a.text_sha256, "gold", spans, "confirmed"))
    corpus = Corpus(ws.corpus_dir)
    with corpus.lock():
        corpus.append(articles)
    AnnotationStore(ws.annotations_dir).write_layer("gold", records)
    return ws, articles


def export_hf(ws: Workspace, out: Path) -> Path:
    from newsner.export import ExportOptions, export

    export(ws, out, ExportOptions("hf", splits=(0.7, 0.15, 0.15)))
    return out


def tiny_base(export_dir: Path, out: Path, *, positions: int = 64) -> Path:
    """A randomly initialised 2-layer BERT with a WordPiece vocabulary of the export's words."""
    from datasets import load_from_disk
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, trainers
    from transformers import BertConfig, BertForTokenClassification, BertTokenizerFast

    ds = load_from_disk(str(export_dir))
    words = [" ".join(r["tokens"]) for split in ds for r in ds[split]]
    tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=False)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.train_from_iterator(words, trainers.WordPieceTrainer(
        vocab_size=400, special_tokens=["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]))
    out.mkdir(parents=True, exist_ok=True)
    tok.save(str(out / "tokenizer.json"))
    fast = BertTokenizerFast(tokenizer_file=str(out / "tokenizer.json"), do_lower_case=False,
                             model_max_length=positions)
    fast.save_pretrained(str(out))
    config = BertConfig(vocab_size=fast.vocab_size, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=64, max_position_embeddings=positions)
    BertForTokenClassification(config).save_pretrained(str(out))
    return out
