"""The benchmarked networks in PyTorch (CPU): the reference dlscratch is measured against.

`from_dlscratch(net)` builds the same layer stack in torch and copies the dlscratch network's
initial parameters into it, so both start from the same He / std-0.01 initialisation:

    Affine(W, b)        -> Flatten + Linear (weight = W^T)
    Convolution(W, b)   -> Conv2d (same (FN, C, FH, FW) weight layout)
    Relu                -> ReLU
    Pooling(ph, pw, s)  -> MaxPool2d
    Dropout(ratio)      -> Dropout(ratio)
    SoftmaxWithLoss     -> cross_entropy

The optimizers match the book's: SGD, and Adam with eps = 1e-7.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn


def from_dlscratch(net) -> nn.Sequential:
    modules = []
    for layer in net.stack.layers:
        kind = type(layer).__name__
        if kind == "Affine":
            linear = nn.Linear(*layer.W.shape)
            with torch.no_grad():
                linear.weight.copy_(torch.from_numpy(np.ascontiguousarray(layer.W.T)))
                linear.bias.copy_(torch.from_numpy(layer.b))
            modules += [nn.Flatten(), linear]
        elif kind == "Convolution":
            fn, c, fh, fw = layer.W.shape
            conv = nn.Conv2d(c, fn, (fh, fw), stride=layer.stride, padding=layer.pad)
            with torch.no_grad():
                conv.weight.copy_(torch.from_numpy(layer.W))
                conv.bias.copy_(torch.from_numpy(layer.b))
            modules.append(conv)
        elif kind == "Relu":
            modules.append(nn.ReLU())
        elif kind == "Pooling":
            modules.append(nn.MaxPool2d((layer.pool_h, layer.pool_w), layer.stride, layer.pad))
        elif kind == "Dropout":
            modules.append(nn.Dropout(layer.dropout_ratio))
        else:
            raise ValueError(f"no torch counterpart for layer {kind}")
    return nn.Sequential(*modules)


def make_optimizer(model: nn.Module, name: str, lr: float) -> torch.optim.Optimizer:
    if name == "sgd":
        return torch.optim.SGD(model.parameters(), lr=lr)
    if name == "adam":
        return torch.optim.Adam(model.parameters(), lr=lr, betas=(0.9, 0.999), eps=1e-7)
    raise ValueError(f"unknown optimizer {name!r}")


class TorchRunner:
    """Training steps and chunked inference of one network in torch."""

    def __init__(self, dl_net, optimizer: str, lr: float):
        self.model = from_dlscratch(dl_net)
        self.optimizer = make_optimizer(self.model, optimizer, lr)

    @staticmethod
    def batches(np_batches):
        return [(torch.from_numpy(x), torch.from_numpy(t.astype(np.int64))) for x, t in np_batches]

    def train_step(self, x, t) -> float:
        self.model.train()
        self.optimizer.zero_grad(set_to_none=True)
        loss = F.cross_entropy(self.model(x), t)
        loss.backward()
        self.optimizer.step()
        return loss.item()

    def predict(self, x, batch_size):
        self.model.eval()
        with torch.inference_mode():
            return torch.cat([self.model(x[i:i + batch_size])
                              for i in range(0, len(x), batch_size)])
