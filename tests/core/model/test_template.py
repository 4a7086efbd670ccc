"""The paper's prompt template: placeholders, object list, referring slots, answer-only labels."""

from __future__ import annotations

import pytest

from orion_core.model.template import (IGNORE_INDEX, OBJECT_TOKEN_ID, VIDEO_TOKEN_ID, SequenceTooLongError,
                                       TemplateError, referring_conversation, tokenize_conversation)

CONV = [
    {"from": "human", "value": "<video>\nWhat is the red ball doing?"},
    {"from": "gpt", "value": "It moves left."},
    {"from": "human", "value": "How many cubes?"},
    {"from": "gpt", "value": "two"},
]


def _words(tokenizer, ids):
    return ["<V>" if i == VIDEO_TOKEN_ID else "<O>" if i == OBJECT_TOKEN_ID else tokenizer.convert_ids_to_tokens(i)
            for i in ids]


def test_layout_of_the_paper_template(tokenizer):
    tok = tokenize_conversation(CONV, tokenizer, num_context_tokens=3, num_objects=2)
    words = _words(tokenizer, tok.input_ids)
    assert words[:6] == ["<s>", "user", ":", "<V>", "<V>", "<V>"]
    prefix = "here is a list of objects and instances in the video :".split()
    assert words[6:6 + len(prefix)] == prefix
    rest = words[6 + len(prefix):]
    assert rest[:3] == ["<O>", ",", "<O>"]
    assert rest[3:] == ("what is the red ball doing ? assistant : it moves left . </s> "
                        "user : how many cubes ? assistant : two </s>").split()
    assert tok.num_objects == 2


def test_labels_cover_exactly_the_answers_and_their_eos(tokenizer):
    tok = tokenize_conversation(CONV, tokenizer, num_context_tokens=3, num_objects=2)
    learned = [tokenizer.convert_ids_to_tokens(l) for l in tok.labels if l != IGNORE_INDEX]
    assert learned == "it moves left . </s> two </s>".split()
    for i, l in zip(tok.input_ids, tok.labels):
        assert l in (IGNORE_INDEX, i)


def test_no_objects_means_no_list(tokenizer):
    tok = tokenize_conversation(CONV, tokenizer, num_context_tokens=2, num_objects=0)
    assert OBJECT_TOKEN_ID not in tok.input_ids
    assert tokenizer.convert_tokens_to_ids("list") not in tok.input_ids


def test_referring_prompt_uses_the_explicit_slot(tokenizer):
    conv = referring_conversation() + [{"from": "gpt", "value": "It moves up."}]
    tok = tokenize_conversation(conv, tokenizer, num_context_tokens=2, num_objects=1)
    words = _words(tokenizer, tok.input_ids)
    assert words[:12] == ["<s>", "user", ":", "<V>", "<V>", "what", "is", "<O>", "doing", "in", "this", "video"]
    assert "list" not in words


def test_image_marker_and_generation_prompt(tokenizer):
    conv = [{"from": "human", "value": "<image>\nWhat colour is the cube?"}]
    tok = tokenize_conversation(conv, tokenizer, num_context_tokens=2, add_generation_prompt=True)
    assert _words(tokenizer, tok.input_ids)[-2:] == ["assistant", ":"]
    assert all(l == IGNORE_INDEX for l in tok.labels)
    with pytest.raises(TemplateError, match="add_generation_prompt"):
        tokenize_conversation(conv, tokenizer, num_context_tokens=2)


def test_unknown_words_map_to_unk(tokenizer):
    ids = tokenizer("the zorblax moves", add_special_tokens=False)["input_ids"]
    assert ids[1] == tokenizer.unk_token_id and ids[0] != tokenizer.unk_token_id


@pytest.mark.parametrize("conv,objects,match", [
    ([{"from": "gpt", "value": "hi"}], 0, "expected 'human'"),
    ([{"from": "human", "value": "<video> what is <o> doing?"}, {"from": "gpt", "value": "x"}], 2, "1 object slots"),
    ([{"from": "human", "value": "<video> a"}, {"from": "gpt", "value": "b"},
      {"from": "human", "value": "<video> c"}, {"from": "gpt", "value": "d"}], 0, "first human turn"),
])
def test_bad_conversations_fail_loudly(tokenizer, conv, objects, match):
    with pytest.raises(TemplateError, match=match):
        tokenize_conversation(conv, tokenizer, num_context_tokens=2, num_objects=objects)


def test_truncation_keeps_placeholders_or_refuses(tokenizer):
    tok = tokenize_conversation(CONV, tokenizer, num_context_tokens=3, num_objects=1, max_length=20)
    assert len(tok.input_ids) == 20 and tok.truncated
    with pytest.raises(SequenceTooLongError):
        tokenize_conversation(CONV, tokenizer, num_context_tokens=30, num_objects=1, max_length=20)
