"""The per-video executor seam: in-process by default, Ray only with an address; settings validated."""

import pytest

from orion_core.pipeline.fanout import InProcessExecutor, RayExecutor, RaySettings, video_executor


def _add(a, b, x):
    return a + b + x


def test_in_process_without_an_address_in_order():
    executor = video_executor(RaySettings())
    assert isinstance(executor, InProcessExecutor) and isinstance(video_executor(None), InProcessExecutor)
    assert executor.map(_add, shared=(1, 10), calls=[(3,), (1,), (2,)]) == [14, 12, 13]
    assert isinstance(video_executor(RaySettings(address="127.0.0.1:6379")), RayExecutor)


def test_settings_are_checked():
    with pytest.raises(ValueError):
        RaySettings(num_gpus=-1)
    with pytest.raises(ValueError):
        RayExecutor(RaySettings())
