"""Suggestions and scores from a `newsner train --engine transformers` model.

Text → words → sub-words → tags → spans:
- words: the very tokenizer the export used (`newsner.text.align.blank_nlp` for the model's training language),
  so the model sees the words it was trained on, and every span edge is a word edge — a grapheme cluster (🇲🇱,
  👍🏽, a letter with its accent) is never cut, and the character offsets are the words' own code-point offsets;
- sub-words: the fast tokenizer on those words (`is_split_into_words`); its `word_ids()` and `offset_mapping`
  tie each sub-token to its word and tell a word's first sub-token, whose prediction is the word's tag (as in
  training); a long article goes in overlapping windows of the model's maximum length, and each word takes the
  prediction of the window where it has the most context (`newsner.model.hf_data.best_windows`);
- spans: the words' tags re-joined as IOB2 (an I- after O or after another label starts an entity, as the
  Hugging Face pipeline's "simple" aggregation does), across window boundaries like anywhere else.

Score of a span: the MINIMUM over its words of the probability of the tag the word got. A span is as weak as its
weakest word: one doubtful boundary word means the annotator will re-bound it, and a mean over a long span would
hide that doubt. For `select --strategy uncertain` the candidates are the spans (p = that minimum) and each word
tagged O whose probability of being in an entity (1 − P(O)) is above 5 % (a near miss the annotator may have to
add), so the article's uncertainty, the sum of min(p, 1 − p), counts the decisions the model is unsure of.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from newsner.errors import ModelError
from newsner.model.hf_data import best_windows, encode_words, max_length, quiet_transformers, require_transformers
from newsner.model.meta import check_schema, read_meta
from newsner.model.predict import Scored, model_name
from newsner.schema import LabelSchema, Span

#: Windows per forward pass.
WINDOW_BATCH = 16
#: An O word is a near-miss candidate when its entity probability is above this.
NEAR_MISS = 0.05


class TransformerTagger:
    """A fine-tuned token-classification model; `score` gives code-point spans with min-probability scores."""

    kind = "model"

    def __init__(self, model_dir: Path, schema: LabelSchema) -> None:
        require_transformers()
        quiet_transformers()
        import torch
        from transformers import AutoModelForTokenClassification, AutoTokenizer

        self.model_dir = Path(model_dir)
        meta = read_meta(self.model_dir)
        check_schema(self.model_dir, meta, schema)
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(str(self.model_dir))
            self.model = AutoModelForTokenClassification.from_pretrained(str(self.model_dir))
        except (OSError, ValueError) as exc:
            raise ModelError(f"{model_dir}: cannot load the transformers model ({str(exc).splitlines()[0]}); "
                             "run `newsner train --engine transformers` first") from None
        self.tags = [str(self.model.config.id2label[i]) for i in range(self.model.config.num_labels)]
        unknown = sorted({t[2:] for t in self.tags if t != "O"} - set(schema.names))
        if unknown or any(t != "O" and t[:2] not in ("B-", "I-") for t in self.tags):
            raise ModelError(f"{model_dir}: the model's labels ({', '.join(self.tags)}) are not IOB2 tags of this "
                             f"label schema ({', '.join(schema.names)}); retrain it on this workspace's export")
        self.device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
        self.model.to(self.device).eval()
        self.length = max_length(self.tokenizer, self.model.config)
        self.language = (meta or {}).get("language")
        self.source = f"model:{model_name(self.model_dir)}"

    def predict_words(self, words: Sequence[Sequence[str]]) -> list[np.ndarray]:
        """Per document, a (words × tags) matrix of probabilities at each word's first sub-token (a word
        without any sub-token gets O with probability 1)."""
        import torch

        out = [np.zeros((len(w), len(self.tags)), dtype=np.float32) for w in words]
        for m in out:
            m[:, self.tags.index("O")] = 1.0
        todo = [i for i, w in enumerate(words) if w]
        if not todo:
            return out
        windows = encode_words(self.tokenizer, [words[i] for i in todo], length=self.length)
        pick = best_windows(windows, [len(words[i]) for i in todo])
        wanted: dict[int, list[tuple[int, int, int]]] = {}  # window -> (doc, word, sub-token)
        for d, row in enumerate(pick):
            for j, where in enumerate(row):
                if where is not None:
                    wanted.setdefault(where[0], []).append((todo[d], j, where[1]))
        ids, mask = windows.encoding["input_ids"], windows.encoding["attention_mask"]
        pad = self.tokenizer.pad_token_id or 0
        with torch.inference_mode():
            for start in range(0, len(ids), WINDOW_BATCH):
                batch = range(start, min(start + WINDOW_BATCH, len(ids)))
                if not any(w in wanted for w in batch):
                    continue
                width = max(len(ids[w]) for w in batch)
                x = torch.tensor([ids[w] + [pad] * (width - len(ids[w])) for w in batch], device=self.device)
                a = torch.tensor([mask[w] + [0] * (width - len(mask[w])) for w in batch], device=self.device)
                probs = torch.softmax(self.model(input_ids=x, attention_mask=a).logits.float(), dim=-1).cpu().numpy()
                for k, w in enumerate(batch):
                    for doc, j, i in wanted.get(w, ()):
                        out[doc][j] = probs[k, i]
        return out

    def words_of(self, text: str) -> tuple[list[str], np.ndarray, np.ndarray]:
        """The words of `text` as the export cut them, with code-point starts and ends."""
        from newsner.text.align import blank_nlp, tokenize

        nlp, _ = blank_nlp(self.language)
        _doc, toks = tokenize(nlp, text)
        return toks.texts, toks.starts, toks.ends

    def score(self, texts: Sequence[str]) -> list[Scored]:
        cut = [self.words_of(t) for t in texts]
        probs = self.predict_words([c[0] for c in cut])
        return [self._spans(text, starts, ends, p) for text, (_w, starts, ends), p in zip(texts, cut, probs,
                                                                                           strict=True)]

    def _spans(self, text: str, starts: np.ndarray, ends: np.ndarray, probs: np.ndarray) -> Scored:
        best = probs.argmax(-1) if len(probs) else np.zeros(0, dtype=np.int64)
        o = self.tags.index("O")
        spans: list[Span] = []
        cands: dict[tuple[int, int, str], float] = {}
        current: list[Any] | None = None  # [label, first word, last word, min p]

        def close() -> None:
            if current is not None:
                label, a, b, p = current
                s, e = int(starts[a]), int(ends[b])
                spans.append(Span(s, e, label, text[s:e], source=self.source, score=round(float(p), 4)))
                cands[(s, e, label)] = float(p)

        for j, t in enumerate(best.tolist()):
            tag, p = self.tags[t], float(probs[j, t])
            if tag == "O":
                close()
                current = None
                entity = 1.0 - float(probs[j, o])
                if entity > NEAR_MISS:
                    alt = max((k for k in range(len(self.tags)) if k != o), key=lambda k: float(probs[j, k]))
                    key = (int(starts[j]), int(ends[j]), self.tags[alt][2:])
                    cands.setdefault(key, entity)
                continue
            label = tag[2:]
            if tag.startswith("I-") and current is not None and current[0] == label:
                current[2], current[3] = j, min(current[3], p)
            else:
                close()
                current = [label, j, j, p]
        close()
        return Scored(spans, cands)
