"""XMem's network (Cheng & Schwing, ECCV 2022), the paper's tracker, written for Orion with the checkpoint layout of
the authors' ``XMem.pth`` (module names below are those state-dict keys; ``load_xmem`` reads such a file).

Parts, with shapes for B=1 clip, N objects, an H x W frame (multiples of 16):

* key encoder: ResNet-50 stem + layers 1-3 (``res2``, ``layer2``, ``layer3``) -> f16 (B, 16w, H/16, W/16),
  f8 (B, 8w, H/8, W/8), f4 (B, 4w, H/4, W/4) with base width w = 64;
* key projection: f16 -> key (B, C_k, H/16, W/16), shrinkage (B, 1, ...) = d^2 + 1, selection (B, C_k, ...) = sigmoid;
* value encoder: ResNet-18 stem (5 input channels: RGB + the object's mask + the other objects' masks) + layers 1-3,
  fused with f16 (two group res-blocks around CBAM) -> value (B, N, C_v, H/16, W/16); a GRU-like cell refreshes
  the hidden state ("sensory memory", (B, N, C_h, H/16, W/16)) on memory frames (deep update);
* decoder: memory readout + hidden state fused with f16, upsampled with f8 and f4 skips -> one logit map per
  object at H/4 x W/4 (upsampled x4), and the next hidden state.

Widths follow w (``XMemArch.base``); layer counts and C_k / C_v / C_h are read back from a checkpoint, so the
tests save and load a tiny random model through the same path as the real 62M-parameter one. The torchvision
ResNet blocks are used as they are (their names match the checkpoint's).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F
from torchvision.models.resnet import BasicBlock, Bottleneck


@dataclass(frozen=True)
class XMemArch:
    base: int = 64
    """ResNet stem width (64 in XMem); f16 has 16x, f8 8x, f4 4x this many channels."""
    key_layers: tuple[int, int, int] = (3, 4, 6)
    """Bottleneck blocks of the key encoder's layers 1-3 (ResNet-50)."""
    value_layers: tuple[int, int, int] = (2, 2, 2)
    """Basic blocks of the value encoder's layers 1-3 (ResNet-18)."""
    key_dim: int = 64
    value_dim: int = 512
    hidden_dim: int = 64


def _stem_and_layers(module: nn.Module, block, in_channels: int, base: int, layers, names) -> None:
    """A torchvision-style ResNet stem and layers 1-3 as attributes of ``module`` (names as in XMem's checkpoint)."""
    module.conv1 = nn.Conv2d(in_channels, base, kernel_size=7, stride=2, padding=3, bias=False)
    module.bn1 = nn.BatchNorm2d(base)
    module.relu = nn.ReLU(inplace=True)
    module.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
    inplanes = base
    for name, planes, count, stride in zip(names, (base, 2 * base, 4 * base), layers, (1, 2, 2)):
        downsample = None
        if stride != 1 or inplanes != planes * block.expansion:
            downsample = nn.Sequential(nn.Conv2d(inplanes, planes * block.expansion, 1, stride=stride, bias=False),
                                       nn.BatchNorm2d(planes * block.expansion))
        blocks = [block(inplanes, planes, stride, downsample)]
        inplanes = planes * block.expansion
        blocks += [block(inplanes, planes) for _ in range(1, count)]
        setattr(module, name, nn.Sequential(*blocks))


class GConv2D(nn.Conv2d):
    """A conv over (B, N, C, H, W) object groups, objects folded into the batch."""

    def forward(self, g: torch.Tensor) -> torch.Tensor:
        b, n = g.shape[:2]
        out = super().forward(g.flatten(0, 1))
        return out.view(b, n, *out.shape[1:])


class GroupResBlock(nn.Module):
    def __init__(self, in_dim: int, out_dim: int) -> None:
        super().__init__()
        self.downsample = GConv2D(in_dim, out_dim, 3, padding=1) if in_dim != out_dim else None
        self.conv1 = GConv2D(in_dim, out_dim, 3, padding=1)
        self.conv2 = GConv2D(out_dim, out_dim, 3, padding=1)

    def forward(self, g: torch.Tensor) -> torch.Tensor:
        out = self.conv2(F.relu(self.conv1(F.relu(g))))
        return out + (self.downsample(g) if self.downsample is not None else g)


def _with_image(x: torch.Tensor, g: torch.Tensor, *, add: bool = False) -> torch.Tensor:
    """Image features x (B, C, H, W) given to every object of g (B, N, C', H, W): concatenated in front, or added."""
    x = x.unsqueeze(1).expand(-1, g.shape[1], -1, -1, -1)
    return x + g if add else torch.cat([x, g], 2)


class ChannelGate(nn.Module):
    def __init__(self, channels: int, reduction: int = 16) -> None:
        super().__init__()
        # indices 1 and 3 as in the checkpoint (0 was a Flatten, 2 a ReLU)
        self.mlp = nn.Sequential(nn.Flatten(), nn.Linear(channels, channels // reduction), nn.ReLU(),
                                 nn.Linear(channels // reduction, channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        att = self.mlp(F.adaptive_avg_pool2d(x, 1)) + self.mlp(F.adaptive_max_pool2d(x, 1))  # (B, C)
        return x * torch.sigmoid(att)[:, :, None, None]


class _SpatialConv(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(2, 1, 7, padding=3)


class SpatialGate(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.spatial = _SpatialConv()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pooled = torch.cat([x.max(1, keepdim=True)[0], x.mean(1, keepdim=True)], 1)  # (B, 2, H, W)
        return x * torch.sigmoid(self.spatial.conv(pooled))


class CBAM(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.ChannelGate = ChannelGate(channels)
        self.SpatialGate = SpatialGate()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.SpatialGate(self.ChannelGate(x))


class FeatureFusionBlock(nn.Module):
    def __init__(self, x_dim: int, g_dim: int, mid_dim: int, out_dim: int) -> None:
        super().__init__()
        self.block1 = GroupResBlock(x_dim + g_dim, mid_dim)
        self.attention = CBAM(mid_dim)
        self.block2 = GroupResBlock(mid_dim, out_dim)

    def forward(self, x: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
        g = self.block1(_with_image(x, g))  # (B, N, mid, H, W)
        r = self.attention(g.flatten(0, 1)).view_as(g)
        return self.block2(g + r)


def _gru(transform: GConv2D, g: torch.Tensor, h: torch.Tensor, hidden_dim: int) -> torch.Tensor:
    """XMem's GRU variant (new value made before the forget gate, as the released weights were trained)."""
    values = transform(torch.cat([g, h], 2))
    forget = torch.sigmoid(values[:, :, :hidden_dim])
    update = torch.sigmoid(values[:, :, hidden_dim:2 * hidden_dim])
    new = torch.tanh(values[:, :, 2 * hidden_dim:])
    return forget * h * (1 - update) + update * new


class HiddenReinforcer(nn.Module):
    def __init__(self, g_dim: int, hidden_dim: int) -> None:
        super().__init__()
        self.hidden_dim = hidden_dim
        self.transform = GConv2D(g_dim + hidden_dim, hidden_dim * 3, 3, padding=1)

    def forward(self, g: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        return _gru(self.transform, g, h, self.hidden_dim)


def _resize_groups(g: torch.Tensor, ratio: float, mode: str) -> torch.Tensor:
    b, n = g.shape[:2]
    out = F.interpolate(g.flatten(0, 1), scale_factor=ratio, mode=mode,
                        align_corners=False if mode == "bilinear" else None)
    return out.view(b, n, *out.shape[1:])


class HiddenUpdater(nn.Module):
    def __init__(self, g_dims: tuple[int, int, int], mid_dim: int, hidden_dim: int) -> None:
        super().__init__()
        self.hidden_dim = hidden_dim
        self.g16_conv = GConv2D(g_dims[0], mid_dim, 1)
        self.g8_conv = GConv2D(g_dims[1], mid_dim, 1)
        self.g4_conv = GConv2D(g_dims[2], mid_dim, 1)
        self.transform = GConv2D(mid_dim + hidden_dim, hidden_dim * 3, 3, padding=1)

    def forward(self, g: list[torch.Tensor], h: torch.Tensor) -> torch.Tensor:
        g = (self.g16_conv(g[0]) + self.g8_conv(_resize_groups(g[1], 0.5, "area"))
             + self.g4_conv(_resize_groups(g[2], 0.25, "area")))
        return _gru(self.transform, g, h, self.hidden_dim)


class KeyEncoder(nn.Module):
    def __init__(self, arch: XMemArch) -> None:
        super().__init__()
        _stem_and_layers(self, Bottleneck, 3, arch.base, arch.key_layers, ("res2", "layer2", "layer3"))

    def forward(self, image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        x = self.maxpool(self.relu(self.bn1(self.conv1(image))))
        f4 = self.res2(x)
        f8 = self.layer2(f4)
        return self.layer3(f8), f8, f4


class KeyProjection(nn.Module):
    def __init__(self, in_dim: int, key_dim: int) -> None:
        super().__init__()
        self.key_proj = nn.Conv2d(in_dim, key_dim, 3, padding=1)
        self.d_proj = nn.Conv2d(in_dim, 1, 3, padding=1)
        self.e_proj = nn.Conv2d(in_dim, key_dim, 3, padding=1)

    def forward(self, f16: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        return self.key_proj(f16), self.d_proj(f16) ** 2 + 1, torch.sigmoid(self.e_proj(f16))


class ValueEncoder(nn.Module):
    def __init__(self, arch: XMemArch) -> None:
        super().__init__()
        _stem_and_layers(self, BasicBlock, 5, arch.base, arch.value_layers, ("layer1", "layer2", "layer3"))
        self.fuser = FeatureFusionBlock(16 * arch.base, 4 * arch.base, arch.value_dim, arch.value_dim)
        self.hidden_reinforce = HiddenReinforcer(arch.value_dim, arch.hidden_dim) if arch.hidden_dim > 0 else None

    def forward(self, image: torch.Tensor, f16: torch.Tensor, hidden: torch.Tensor | None, masks: torch.Tensor,
                deep_update: bool) -> tuple[torch.Tensor, torch.Tensor | None]:
        """image (B, 3, H, W), f16 (B, 16w, h, w), masks (B, N, H, W) -> value (B, N, C_v, h, w), hidden."""
        n = masks.shape[1]
        others = masks.sum(1, keepdim=True) - masks  # every other object's mask, summed
        g = _with_image(image, torch.stack([masks, others], 2))  # (B, N, 5, H, W)
        b = g.shape[0]
        x = g.flatten(0, 1)
        x = self.relu(self.maxpool(self.bn1(self.conv1(x))))  # XMem pools before the ReLU here
        x = self.layer3(self.layer2(self.layer1(x)))
        g = self.fuser(f16, x.view(b, n, *x.shape[1:]))
        if deep_update and self.hidden_reinforce is not None:
            hidden = self.hidden_reinforce(g, hidden)
        return g, hidden


class UpsampleBlock(nn.Module):
    def __init__(self, skip_dim: int, up_dim: int, out_dim: int) -> None:
        super().__init__()
        self.skip_conv = nn.Conv2d(skip_dim, up_dim, 3, padding=1)
        self.out_conv = GroupResBlock(up_dim, out_dim)

    def forward(self, skip: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
        return self.out_conv(_with_image(self.skip_conv(skip), _resize_groups(g, 2, "bilinear"), add=True))


class Decoder(nn.Module):
    def __init__(self, arch: XMemArch) -> None:
        super().__init__()
        w = arch.base
        self.fuser = FeatureFusionBlock(16 * w, arch.value_dim + arch.hidden_dim, 8 * w, 8 * w)
        self.hidden_update = (HiddenUpdater((8 * w, 4 * w, 4 * w + 1), 4 * w, arch.hidden_dim)
                              if arch.hidden_dim > 0 else None)
        self.up_16_8 = UpsampleBlock(8 * w, 8 * w, 4 * w)
        self.up_8_4 = UpsampleBlock(4 * w, 4 * w, 4 * w)
        self.pred = nn.Conv2d(4 * w, 1, 3, padding=1)

    def forward(self, f16, f8, f4, hidden, readout, update_hidden: bool):
        """readout (B, N, C_v, h, w) -> hidden (or None), logits (B, N, 4h', 4w') at the f4 size x 4."""
        b, n = readout.shape[:2]
        g16 = self.fuser(f16, torch.cat([readout, hidden], 2) if self.hidden_update is not None else readout)
        g8 = self.up_16_8(f8, g16)
        g4 = self.up_8_4(f4, g8)
        logits = self.pred(F.relu(g4.flatten(0, 1)))  # (B*N, 1, H/4, W/4)
        if update_hidden and self.hidden_update is not None:
            g4 = torch.cat([g4, logits.view(b, n, 1, *logits.shape[-2:])], 2)
            hidden = self.hidden_update([g16, g8, g4], hidden)
        logits = F.interpolate(logits, scale_factor=4, mode="bilinear", align_corners=False)
        return hidden, logits.view(b, n, *logits.shape[-2:])


class XMemNetwork(nn.Module):
    """The four parts under their checkpoint names: key_encoder, value_encoder, key_proj, decoder."""

    def __init__(self, arch: XMemArch) -> None:
        super().__init__()
        self.arch = arch
        self.key_encoder = KeyEncoder(arch)
        self.value_encoder = ValueEncoder(arch)
        self.key_proj = KeyProjection(16 * arch.base, arch.key_dim)
        self.decoder = Decoder(arch)


def arch_from_state(state: dict[str, torch.Tensor]) -> XMemArch:
    """The sizes of an XMem checkpoint, read from its tensors (as XMem itself does for C_k, C_v, C_h)."""
    def blocks(prefix: str) -> int:
        return len({k.split(".")[2] for k in state if k.startswith(prefix + ".")})

    hidden = state.get("decoder.hidden_update.transform.weight")
    return XMemArch(
        base=int(state["key_encoder.conv1.weight"].shape[0]),
        key_layers=tuple(blocks(f"key_encoder.{n}") for n in ("res2", "layer2", "layer3")),
        value_layers=tuple(blocks(f"value_encoder.{n}") for n in ("layer1", "layer2", "layer3")),
        key_dim=int(state["key_proj.key_proj.weight"].shape[0]),
        value_dim=int(state["value_encoder.fuser.block2.conv2.weight"].shape[0]),
        hidden_dim=int(hidden.shape[0]) // 3 if hidden is not None else 0,
    )


def load_xmem(path, *, device: str = "cpu") -> XMemNetwork:
    """An XMem checkpoint (a plain state dict saved with torch.save, e.g. the authors' XMem.pth) on ``device``."""
    state = torch.load(path, map_location="cpu", weights_only=True)
    if state["value_encoder.conv1.weight"].shape[1] != 5:
        raise ValueError(f"{path}: value encoder takes {state['value_encoder.conv1.weight'].shape[1]} channels; "
                         "Orion needs XMem's multi-object weights (5: RGB, mask, other masks)")
    network = XMemNetwork(arch_from_state(state))
    network.load_state_dict(state)
    return network.to(device).eval()
