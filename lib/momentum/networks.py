r"""The networks of the book, as ``torch.nn.Module``s with the papers' initialisation and scaling.

Sections (each added by its chapter):

* two-layer ReLU network, its empirical NTK Gram matrix and the arc-cosine kernel
  (Du et al. 2019; Liu et al. 2023) -- Chapter 4;
* deep fully-connected ReLU network and its partition into the last layer x and the rest u
  (Liao & Kyrillidis 2024, §5) -- Chapter 3;
* deep linear networks and linear ResNets (Liu, Tao & Pan 2022) -- Chapter 5.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from . import _validate

__all__: list[str] = []
