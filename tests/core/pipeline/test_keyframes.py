"""Step 3: the paper's key-frame rule, exactly, and the two ablation modes (Table 6)."""

import pytest

from orion_core.pipeline.keyframes import frame_nouns, select_keyframes
from orion_core.pipeline.experts.base import Tag


def paper(tag_sets, theta_a=3, theta_b=2):
    return select_keyframes(tag_sets, mode="paper", theta_a=theta_a, theta_b=theta_b)


def test_frames_with_at_most_theta_a_tags_are_dropped():
    sets = [["a", "b", "c"], ["a", "b", "c", "d"], ["x", "y", "z"]]
    assert paper(sets) == [1]  # 3 tags is "at most theta_a=3": dropped; the first remaining frame is key


def test_new_key_frame_when_overlap_with_last_key_falls_below_theta_b():
    k = ["a", "b", "c", "d"]
    sets = [k, ["a", "b", "x", "y"], ["a", "x", "y", "z"], ["a", "x", "y", "w"], ["p", "q", "r", "s"]]
    # frame 1 shares 2 (not < 2): no; frame 2 shares 1 with frame 0: key; frame 3 shares 3 with frame 2 (the
    # most recent key, not frame 0): no; frame 4 shares 0: key.
    assert paper(sets) == [0, 2, 4]


def test_overlap_is_measured_against_the_most_recent_key_frame_only():
    sets = [["a", "b", "c", "d"], ["e", "f", "g", "h"], ["a", "b", "c", "d"]]
    assert paper(sets) == [0, 1, 2]


def test_no_frame_above_theta_a_means_no_key_frames():
    assert paper([["a"], ["a", "b"], []]) == []
    assert paper([]) == []


def test_thetas_are_parameters():
    sets = [["a"], ["a", "b"], ["c", "d"]]
    assert paper(sets, theta_a=0, theta_b=1) == [0, 2]
    assert paper(sets, theta_a=1, theta_b=1) == [1, 2]


def test_uniform_mode_cuts_equal_runs_and_ignores_tags():
    assert select_keyframes([[]] * 16, mode="uniform", theta_a=3, theta_b=2, uniform_keyframes=4) == [0, 4, 8, 12]
    assert select_keyframes([["a"]] * 3, mode="uniform", theta_a=3, theta_b=2, uniform_keyframes=4) == [0, 1, 2]


def test_no_split_mode_keeps_the_first_frame_only():
    assert select_keyframes([["a"], ["b", "c", "d", "e"]], mode="no-split", theta_a=3, theta_b=2) == [0]


def test_unknown_mode_is_an_error():
    with pytest.raises(ValueError, match="key-frame mode"):
        select_keyframes([["a"]], mode="random", theta_a=3, theta_b=2)


def test_frame_nouns_keep_concrete_nouns_and_fold_synonyms():
    tags = [[Tag("automobile", 0.9), Tag("car", 0.8), Tag("triangle", 0.7), Tag("dogs", 0.6)], []]
    assert frame_nouns(tags) == [["car", "dog"], []]
