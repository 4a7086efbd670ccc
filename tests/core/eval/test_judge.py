"""The open-ended judge: Video-ChatGPT's prompt, robust parsing, a tiny local transformers judge, and an
OpenAI-compatible endpoint served on loopback by the test."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import torch

from orion_core.eval.judge import (HTTPJudge, JudgeError, TransformersJudge, build_judge, judge_messages,
                                   parse_judgement)

REPLY = "{'pred': 'yes', 'score': 4}"


@pytest.mark.parametrize("reply, pred, score", [
    ("{'pred': 'yes', 'score': 4}", "yes", 4.0),
    ('{"pred": "no", "score": 1}', "no", 1.0),
    ("Sure! {'pred': 'YES', 'score': 4.8} hope it helps", "yes", 4.8),
    ("{ ' pred ' : ' yes ' , ' score ' : 3 }", "yes", 3.0),     # a word-level tokenizer's spacing
    ("pred: no\nscore: 0", "no", 0.0),
    ("{'pred': 'yes', 'score': '5'}", "yes", 5.0),
])
def test_parse_judgement_reads_awkward_replies(reply, pred, score):
    got = parse_judgement(reply)
    assert got.parsed and (got.pred, got.score) == (pred, score)


@pytest.mark.parametrize("reply", ["", "I cannot evaluate this.", "{'pred': 'maybe', 'score': 3}",
                                   "{'pred': 'yes', 'score': 7}", "{'pred': 'yes'}", "{'score': 2}"])
def test_unparseable_replies_are_not_guessed(reply):
    got = parse_judgement(reply)
    assert not got.parsed and got.pred is None and got.score is None and got.raw == reply


def test_prompt_is_video_chatgpts():
    system, user = judge_messages("what colour is it", "red", "it is red")
    assert system["role"] == "system" and "evaluating the correctness of generative outputs" in system["content"]
    assert "Question: what colour is it\nCorrect Answer: red\nPredicted Answer: it is red" in user["content"]
    assert "{'pred': 'yes', 'score': 4.8}" in user["content"]


# ---------------------------------------------------------------- a tiny local judge
JUDGE_WORDS = ("{ } ' : , pred score yes no 0 1 2 3 4 5 question correct answer predicted system user assistant "
               "please evaluate the following video based pair red blue it is colour what").split()


def _tiny_judge(train_steps: int) -> TransformersJudge:
    from transformers import Qwen2Config, Qwen2ForCausalLM

    from orion_core.model.tokenizer import build_word_tokenizer

    tokenizer = build_word_tokenizer(JUDGE_WORDS)
    torch.manual_seed(0)
    model = Qwen2ForCausalLM(Qwen2Config(vocab_size=len(tokenizer), hidden_size=64, intermediate_size=128,
                                         num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                                         max_position_embeddings=1024))
    judge = TransformersJudge(model=model, tokenizer=tokenizer, max_new_tokens=16)
    if train_steps:  # teach it one reply, whatever the question: the parse path sees a real generation
        target = tokenizer(REPLY, add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id]
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        model.train()
        pairs = [(q, p) for q in ("what colour is it", "is it red", "what is it") for p in ("blue", "it is red", "red")]
        for step in range(train_steps):
            q, p = pairs[step % len(pairs)]
            prompt = judge.prompt_ids(judge_messages(q, "red", p))
            ids = torch.tensor([prompt + target])
            labels = torch.tensor([[-100] * len(prompt) + target])
            loss = model(input_ids=ids, labels=labels).loss
            opt.zero_grad()
            loss.backward()
            opt.step()
        model.eval()
    return judge


def test_tiny_transformers_judge_generates_a_parseable_verdict():
    verdict = _tiny_judge(train_steps=150).judge("what colour is it", "blue", "it is blue")  # an unseen pair
    assert verdict.raw.replace(" ", "") == REPLY.replace(" ", "")
    assert (verdict.pred, verdict.score) == ("yes", 4.0)


def test_untrained_judge_output_is_counted_unparseable():
    verdict = _tiny_judge(train_steps=0).judge("what is it", "red", "it is red")
    assert not verdict.parsed and verdict.raw  # random weights emit words, not a verdict


def test_build_judge_loads_a_local_model_folder(tmp_path, eval_config):
    judge = _tiny_judge(train_steps=0)
    judge.model.save_pretrained(tmp_path / "judge")
    judge.tokenizer.save_pretrained(tmp_path / "judge")
    config = eval_config.with_overrides({"eval.judge": "transformers", "eval.judge_path": str(tmp_path / "judge")})
    built = build_judge(config.eval)
    assert isinstance(built, TransformersJudge) and built.model.config.hidden_size == 64
    with pytest.raises(JudgeError, match="judge_path"):
        build_judge(eval_config.with_overrides({"eval.judge": "transformers"}).eval)
    assert build_judge(eval_config.eval) is None


# ---------------------------------------------------------------- an OpenAI-compatible endpoint
class _ChatHandler(BaseHTTPRequestHandler):
    requests: list = []

    def do_POST(self):  # noqa: N802 (http.server's naming)
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).requests.append({"path": self.path, "auth": self.headers.get("Authorization"), "body": body})
        if self.path == "/broken/v1/chat/completions":
            self.send_response(500)
            self.end_headers()
            return
        user = body["messages"][1]["content"]
        right = "Correct Answer: red\nPredicted Answer: red" in user
        content = "{'pred': 'yes', 'score': 5}" if right else "I am not sure about that one."
        data = json.dumps({"id": "x", "object": "chat.completion", "model": body["model"],
                           "choices": [{"index": 0, "message": {"role": "assistant", "content": content},
                                        "finish_reason": "stop"}]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def chat_server():
    _ChatHandler.requests = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _ChatHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def test_http_judge_speaks_chat_completions(chat_server, monkeypatch, eval_config):
    monkeypatch.setenv("ORION_TEST_JUDGE_KEY", "sk-test")
    config = eval_config.with_overrides({"eval.judge": "http", "eval.judge_base_url": f"{chat_server}/v1",
                                         "eval.judge_model": "gpt-3.5-turbo",
                                         "eval.judge_api_key_env": "ORION_TEST_JUDGE_KEY"})
    judge = build_judge(config.eval)
    assert isinstance(judge, HTTPJudge)
    good = judge.judge("what colour is the square", "red", "red")
    bad = judge.judge("what colour is the square", "red", "blue")
    assert (good.pred, good.score) == ("yes", 5.0) and not bad.parsed
    req = _ChatHandler.requests[0]
    assert req["path"] == "/v1/chat/completions" and req["auth"] == "Bearer sk-test"
    assert req["body"]["model"] == "gpt-3.5-turbo" and req["body"]["temperature"] == 0
    assert [m["role"] for m in req["body"]["messages"]] == ["system", "user"]


def test_http_judge_failure_raises_after_retries(chat_server):
    judge = HTTPJudge(base_url=f"{chat_server}/broken/v1", model="m", retries=1, timeout_s=5)
    with pytest.raises(JudgeError, match="500"):
        judge.judge("q", "a", "p")
    assert len(_ChatHandler.requests) == 2  # one retry on a server error
