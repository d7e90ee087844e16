"""A small face-attribute classifier, trained on real faces, that counts attributes in generated ones.

It answers "what share of these faces has blond hair?" for any attribute expression of
the face table. Trained on the table's training split and scored on its held-out split,
so its accuracy is reported alongside every rate it measures.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ...data.celeba import AlignedFaces, FaceTable, evaluate
from ...data.images import pil_to_tensor


class AttributeNet(nn.Module):
    """64 x 64 RGB in [0, 1] -> one logit; four strided convolutions and a linear layer."""

    def __init__(self, width: int = 32) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        cin = 3
        for cout in (width, width * 2, width * 4, width * 8):
            layers += [nn.Conv2d(cin, cout, 4, 2, 1), nn.BatchNorm2d(cout), nn.LeakyReLU(0.2)]
            cin = cout
        self.features = nn.Sequential(*layers)
        self.head = nn.Linear(cin, 1)

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.features(x * 2 - 1).mean(dim=(2, 3))).flatten()


def load_faces(
    table: FaceTable, split: str | None, crop: int = 108, size: int = 64, limit: int | None = None
):
    """(images (N, 3, size, size) in [0, 1], row indices) of one split; unreadable files are skipped."""
    rows = np.flatnonzero(table.split_mask(split))
    if limit is not None:
        rows = rows[:limit]
    faces = AlignedFaces([table.image_folder / table.files[i] for i in rows], crop=crop, size=size)
    images, kept = [], []
    for k, row in enumerate(rows):
        img = faces.load_prepared(k)
        if img is not None:
            images.append(pil_to_tensor(img))
            kept.append(row)
    if not images:
        raise ValueError(f"no readable faces in the {split or 'whole'} split")
    return torch.stack(images), np.asarray(kept)


@dataclass
class AttributeClassifier:
    """A trained :class:`AttributeNet` for one expression and its held-out accuracy."""

    expression: str
    net: AttributeNet
    accuracy: float
    held_out: int

    @torch.no_grad()
    def rate(self, images: Tensor, batch: int = 256) -> float:
        """Share of ``images`` classified as having the attribute."""
        self.net.eval()
        hits = sum(int((self.net(images[s : s + batch]) > 0).sum()) for s in range(0, len(images), batch))
        return hits / len(images)


def train_classifier(
    table: FaceTable,
    expression: str,
    steps: int = 600,
    batch: int = 64,
    lr: float = 1e-3,
    seed: int = 0,
    held_out_split: str = "test",
    limit: int | None = None,
) -> AttributeClassifier:
    """Train on the ``train`` split with balanced batches; report accuracy on ``held_out_split``."""
    generator = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    images, rows = load_faces(table, "train", limit=limit)
    labels = torch.from_numpy(evaluate(expression, table)[rows]).float()
    positives, negatives = torch.nonzero(labels).flatten(), torch.nonzero(labels == 0).flatten()
    if len(positives) == 0 or len(negatives) == 0:
        raise ValueError(f"{expression!r}: the training split needs faces with and without it")
    net = AttributeNet()
    optimizer = torch.optim.Adam(net.parameters(), lr=lr)
    half = max(1, batch // 2)
    net.train()
    for _ in range(steps):
        pick = torch.cat([
            positives[torch.randint(len(positives), (half,), generator=generator)],
            negatives[torch.randint(len(negatives), (half,), generator=generator)],
        ])  # fmt: skip
        x = images[pick]
        flip = torch.rand(len(x), generator=generator) < 0.5
        x = torch.where(flip[:, None, None, None], x.flip(3), x)
        loss = F.binary_cross_entropy_with_logits(net(x), labels[pick])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    test_images, test_rows = load_faces(table, held_out_split, limit=limit)
    truth = evaluate(expression, table)[test_rows]
    net.eval()
    with torch.no_grad():
        predicted = torch.cat([net(test_images[s : s + 256]) > 0 for s in range(0, len(test_images), 256)])
    accuracy = float((predicted.numpy() == truth).mean())
    return AttributeClassifier(expression, net, accuracy, len(test_rows))
