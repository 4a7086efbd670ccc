"""Tokenizers: the LLM's own (7B presets, from ``model.llm_path``) or a tiny word-level one (tests, tiny-cpu).

No hub: the tiny tokenizer is built with the ``tokenizers`` library from the word list shipped in
``configs/tiny_vocab.txt`` (one word a line) and wrapped as a ``PreTrainedTokenizerFast``, so template,
collate and generation code treat both kinds the same way. Unknown words map to ``<unk>``.
"""

from __future__ import annotations

from pathlib import Path

from tokenizers import Tokenizer, normalizers, pre_tokenizers
from tokenizers.models import WordLevel
from transformers import AutoTokenizer, PreTrainedTokenizerBase, PreTrainedTokenizerFast

from orion_core.config import PROJECT_ROOT, ModelConfig
from orion_core.weights import MissingWeightsError, resolve_weights

SPECIAL_TOKENS = ("<pad>", "<unk>", "<s>", "</s>")


def read_vocab(path: str | Path) -> list[str]:
    """Words of a vocabulary file (one a line, blank lines skipped), without duplicates, in file order."""
    path = Path(path)
    if not path.is_absolute():
        path = PROJECT_ROOT / path
    if not path.is_file():
        raise MissingWeightsError(f"model.tokenizer_vocab: vocabulary file not found at {path}")
    words = [w.strip() for w in path.read_text(encoding="utf-8").splitlines()]
    return list(dict.fromkeys(w for w in words if w and w not in SPECIAL_TOKENS))


def build_word_tokenizer(words: list[str]) -> PreTrainedTokenizerFast:
    """Lower-cased word-level tokenizer: ids 0-3 are ``<pad> <unk> <s> </s>``, then ``words`` in order."""
    vocab = {tok: i for i, tok in enumerate(SPECIAL_TOKENS)}
    for word in words:
        vocab.setdefault(word.lower(), len(vocab))
    core = Tokenizer(WordLevel(vocab=vocab, unk_token="<unk>"))
    core.normalizer = normalizers.Lowercase()
    # Split on whitespace, then isolate every punctuation character ("ball?" -> "ball", "?").
    core.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.WhitespaceSplit(),
                                                  pre_tokenizers.Punctuation(behavior="isolated")])
    return PreTrainedTokenizerFast(tokenizer_object=core, bos_token="<s>", eos_token="</s>",
                                   unk_token="<unk>", pad_token="<pad>")


def build_tokenizer(model: ModelConfig) -> PreTrainedTokenizerBase:
    """The tokenizer for ``model``: AutoTokenizer from ``llm_path``, else the tiny word-level one.

    A tokenizer without a pad token (Mistral) pads with ``<unk>`` (or ``</s>``): padding positions are masked
    out of attention and loss, so the choice only has to be a valid id.
    """
    if model.llm_path:
        path = resolve_weights(model.llm_path, what="model.llm_path")
        tokenizer = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
    else:
        tokenizer = build_word_tokenizer(read_vocab(model.tokenizer_vocab))
        if len(tokenizer) > model.vocab_size:
            raise ValueError(f"tiny tokenizer has {len(tokenizer)} tokens but model.vocab_size={model.vocab_size}")
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.unk_token or tokenizer.eos_token
    return tokenizer
