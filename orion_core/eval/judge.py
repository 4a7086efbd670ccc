"""The open-ended judge of Video-ChatGPT's protocol: an LLM says yes/no and scores 0-5 how well a predicted
answer matches the reference (ActivityNet-QA: accuracy = share of "yes", score = mean score).

    judge = build_judge(config.eval)                 # none | transformers (local model) | http (OpenAI-compatible)
    verdict = judge.judge(question, answer, prediction)
    verdict.pred, verdict.score, verdict.parsed       # "yes"/"no", 0-5, False when the reply made no sense

The prompt is Video-ChatGPT's evaluation prompt (system + user message asking for a Python-dict string
``{'pred': 'yes', 'score': 4}``). Replies are parsed robustly (:func:`parse_judgement`); a reply that gives
no yes/no or no score in [0, 5] is *unparseable* - counted separately, never guessed. Transport failures
(HTTP errors after retries) raise :class:`JudgeError`: a missing judgement is not a "no".
"""

from __future__ import annotations

import ast
import json
import os
import re
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

SYSTEM_PROMPT = (
    "You are an intelligent chatbot designed for evaluating the correctness of generative outputs for "
    "question-answer pairs. Your task is to compare the predicted answer with the correct answer and determine "
    "if they match meaningfully. Here's how you can accomplish the task:------##INSTRUCTIONS: - Focus on the "
    "meaningful match between the predicted answer and the correct answer.\n- Consider synonyms or paraphrases "
    "as valid matches.\n- Evaluate the correctness of the prediction compared to the answer.")
USER_PROMPT = (
    "Please evaluate the following video-based question-answer pair:\n\nQuestion: {question}\nCorrect Answer: "
    "{answer}\nPredicted Answer: {pred}\n\nProvide your evaluation only as a yes/no and score where the score is "
    "an integer value between 0 and 5, with 5 indicating the highest meaningful match. Please generate the "
    "response in the form of a Python dictionary string with keys 'pred' and 'score', where value of 'pred' is  "
    "a string of 'yes' or 'no' and value of 'score' is in INTEGER, not STRING.DO NOT PROVIDE ANY OTHER OUTPUT "
    "TEXT OR EXPLANATION. Only provide the Python dictionary string. For example, your response should look "
    "like this: {{'pred': 'yes', 'score': 4.8}}.")


class JudgeError(RuntimeError):
    """The judge could not be reached or built (not an unparseable reply: those are counted)."""


@dataclass(frozen=True)
class Judgement:
    pred: str | None
    """``yes`` / ``no``; None when unparseable."""
    score: float | None
    """0-5; None when unparseable."""
    raw: str
    """The judge's reply as it came."""

    @property
    def parsed(self) -> bool:
        return self.pred is not None and self.score is not None

    def to_dict(self) -> dict[str, Any]:
        return {"pred": self.pred, "score": self.score, "raw": self.raw, "parsed": self.parsed}


def judge_messages(question: str, answer: str, prediction: str) -> list[dict[str, str]]:
    """Video-ChatGPT's two messages (system, user) for one question-answer pair."""
    return [{"role": "system", "content": SYSTEM_PROMPT},
            {"role": "user", "content": USER_PROMPT.format(question=question, answer=answer, pred=prediction)}]


_DICT = re.compile(r"\{.*?\}", re.S)
_PRED = re.compile(r"""['"]?\s*pred\s*['"]?\s*[:=]\s*['"]?\s*(yes|no)\b""", re.I)
_SCORE = re.compile(r"""['"]?\s*score\s*['"]?\s*[:=]\s*['"]?\s*(-?\d+(?:\.\d+)?)""", re.I)


def parse_judgement(text: str) -> Judgement:
    """Read ``pred`` and ``score`` from a reply.

    Tries, in order: the first ``{...}`` as a Python/JSON literal (keys and values stripped and lower-cased),
    then ``pred: yes`` / ``score: 4`` anywhere (any quoting and spacing, e.g. a word-level tokenizer's
    ``{ ' pred ' : ' yes ' , ' score ' : 4 }``). A score outside [0, 5] or a pred other than yes/no is
    unparseable (both fields None)."""
    raw = text if isinstance(text, str) else str(text)
    pred = score = None
    for blob in _DICT.findall(raw):
        data = None
        for reader in (ast.literal_eval, json.loads):
            try:
                data = reader(blob)
                break
            except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
                continue
        if isinstance(data, dict):
            norm = {str(k).strip().lower(): v for k, v in data.items()}
            pred = str(norm.get("pred", "")).strip().lower() or None
            try:
                score = float(str(norm.get("score")).strip())
            except ValueError:
                score = None
            break
    if pred is None:
        m = _PRED.search(raw)
        pred = m.group(1).lower() if m else None
    if score is None:
        m = _SCORE.search(raw)
        score = float(m.group(1)) if m else None
    if pred not in ("yes", "no") or score is None or not 0.0 <= score <= 5.0:
        return Judgement(pred=None, score=None, raw=raw)
    return Judgement(pred=pred, score=score, raw=raw)


@runtime_checkable
class Judge(Protocol):
    def judge(self, question: str, answer: str, prediction: str) -> Judgement: ...


class TransformersJudge:
    """A local causal LM (transformers) as the judge; greedy decoding, the tokenizer's chat template when it
    has one, else ``System: ...\\nUser: ...\\nAssistant:`` plain text."""

    def __init__(self, *, model: Any, tokenizer: Any, max_new_tokens: int = 64) -> None:
        self.model = model.eval()
        self.tokenizer = tokenizer
        self.max_new_tokens = max_new_tokens

    @classmethod
    def from_path(cls, path: str, *, device: str = "cpu", max_new_tokens: int = 64) -> "TransformersJudge":
        from transformers import AutoModelForCausalLM, AutoTokenizer

        from orion_core.weights import resolve_weights

        local = resolve_weights(path, what="eval.judge_path")
        tokenizer = AutoTokenizer.from_pretrained(str(local), local_files_only=True)
        model = AutoModelForCausalLM.from_pretrained(str(local), local_files_only=True).to(device)
        return cls(model=model, tokenizer=tokenizer, max_new_tokens=max_new_tokens)

    def prompt_ids(self, messages: list[dict[str, str]]) -> list[int]:
        if getattr(self.tokenizer, "chat_template", None):
            ids = self.tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=True)
            return list(ids["input_ids"] if isinstance(ids, dict) or hasattr(ids, "keys") else ids)
        text = "\n".join(f"{m['role'].capitalize()}: {m['content']}" for m in messages) + "\nAssistant:"
        return list(self.tokenizer(text)["input_ids"])

    def judge(self, question: str, answer: str, prediction: str) -> Judgement:
        import torch

        ids = torch.tensor([self.prompt_ids(judge_messages(question, answer, prediction))],
                           device=self.model.device)
        pad = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else self.tokenizer.eos_token_id
        with torch.no_grad():
            out = self.model.generate(ids, attention_mask=torch.ones_like(ids), max_new_tokens=self.max_new_tokens,
                                      do_sample=False, pad_token_id=pad, eos_token_id=self.tokenizer.eos_token_id)
        reply = self.tokenizer.decode(out[0, ids.shape[1]:], skip_special_tokens=True)
        return parse_judgement(reply)


class HTTPJudge:
    """An OpenAI-compatible chat-completions endpoint: POST ``{base_url}/chat/completions`` with
    ``{"model", "messages", "temperature": 0, "max_tokens"}``, bearer key from ``$<api_key_env>`` (if set)."""

    def __init__(self, *, base_url: str, model: str, api_key_env: str = "OPENAI_API_KEY", timeout_s: float = 60.0,
                 max_tokens: int = 64, retries: int = 2) -> None:
        self.url = base_url.rstrip("/") + "/chat/completions"
        self.model = model
        self.api_key_env = api_key_env
        self.timeout_s = timeout_s
        self.max_tokens = max_tokens
        self.retries = retries

    def _post(self, payload: dict) -> dict:
        headers = {"Content-Type": "application/json"}
        key = os.environ.get(self.api_key_env) if self.api_key_env else None
        if key:
            headers["Authorization"] = f"Bearer {key}"
        request = urllib.request.Request(self.url, data=json.dumps(payload).encode(), headers=headers, method="POST")
        last: Exception | None = None
        for attempt in range(self.retries + 1):
            try:
                with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                    return json.loads(response.read().decode())
            except urllib.error.HTTPError as exc:
                last = exc
                if exc.code < 500 and exc.code != 429:  # a client error will not improve by asking again
                    break
            except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
                last = exc
            time.sleep(min(2.0 ** attempt, 8.0) * 0.25)
        raise JudgeError(f"judge endpoint {self.url} failed: {last}")

    def judge(self, question: str, answer: str, prediction: str) -> Judgement:
        reply = self._post({"model": self.model, "messages": judge_messages(question, answer, prediction),
                            "temperature": 0, "max_tokens": self.max_tokens})
        try:
            content = reply["choices"][0]["message"]["content"]
        except (KeyError, IndexError, TypeError):
            raise JudgeError(f"judge endpoint {self.url} answered without choices[0].message.content: "
                             f"{str(reply)[:200]}") from None
        return parse_judgement(content or "")


def build_judge(config: Any, *, device: str = "cpu") -> Judge | None:
    """The judge named by an ``EvalConfig`` (``judge``: none | transformers | http); None for ``none``."""
    if config.judge == "none":
        return None
    if config.judge == "transformers":
        if not config.judge_path:
            raise JudgeError("eval.judge=transformers needs eval.judge_path (a local model folder or s3:// URI)")
        return TransformersJudge.from_path(config.judge_path, device=device, max_new_tokens=config.judge_max_new_tokens)
    if not config.judge_base_url or not config.judge_model:
        raise JudgeError("eval.judge=http needs eval.judge_base_url and eval.judge_model")
    return HTTPJudge(base_url=config.judge_base_url, model=config.judge_model, api_key_env=config.judge_api_key_env,
                     timeout_s=config.judge_timeout_s, max_tokens=config.judge_max_new_tokens)
