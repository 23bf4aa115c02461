"""Weight initialization schemes and seeded network construction (spec/proxies.md §2.3).

Weights are always drawn on the CPU, module by module in registration order, then copied into the
parameters; so a given generator state gives identical weights on any device.

Schemes
-------
``torch_default``
    What PyTorch's ``reset_parameters`` does: Conv/Linear weight ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in))
    (kaiming_uniform with a=sqrt(5)), bias ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)); BN gamma=1, beta=0.
    Drawn in the same order and from the same distributions, so a net built with ``seed=s`` equals one
    built by PyTorch after ``torch.manual_seed(s)``.
``kaiming_normal_fan_in`` / ``kaiming_normal_fan_out`` (TE-NAS)
    Conv/Linear weight ~ N(0, 2/fan), fan = C_in*k*k or C_out*k*k (Linear: in or out features);
    biases 0; BN gamma=1, beta=0.

Every scheme also resets BN running statistics (mean 0, var 1, count 0).
"""
from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import nn

from .._validation import check_int, check_option
from ..exceptions import InvalidParameterError

INIT_SCHEMES = ("torch_default", "kaiming_normal_fan_in", "kaiming_normal_fan_out")
_KAIMING_MODE = {"kaiming_normal_fan_in": "fan_in", "kaiming_normal_fan_out": "fan_out"}


def _draw_weight(module: nn.Conv2d | nn.Linear, scheme: str, generator) -> None:
    """Draw weight (and bias) of one Conv/Linear on the CPU and copy them in."""
    w = torch.empty(module.weight.shape, dtype=module.weight.dtype)
    fan_in = w[0].numel()
    if scheme == "torch_default":
        nn.init.kaiming_uniform_(w, a=math.sqrt(5), generator=generator)
    else:
        nn.init.kaiming_normal_(w, mode=_KAIMING_MODE[scheme], nonlinearity="relu", generator=generator)
    with torch.no_grad():
        module.weight.copy_(w)
        if module.bias is None:
            return
        if scheme == "torch_default":
            bound = 1.0 / math.sqrt(fan_in) if fan_in > 0 else 0.0
            b = torch.empty(module.bias.shape, dtype=module.bias.dtype).uniform_(-bound, bound, generator=generator)
            module.bias.copy_(b)
        else:
            module.bias.zero_()


def init_weights(
    net: nn.Module, scheme: str = "torch_default", *, generator: torch.Generator | None = None
) -> nn.Module:
    """Re-initialize every Conv2d, Linear and BatchNorm of `net` in place.

    Parameters
    ----------
    net : nn.Module
        Any module tree; modules other than Conv2d/Linear/BatchNorm must hold no parameters of their own.
    scheme : {"torch_default", "kaiming_normal_fan_in", "kaiming_normal_fan_out"}
        See the module docstring.
    generator : torch.Generator, optional
        A CPU generator to draw from, in module registration order; None uses torch's global CPU RNG.

    Returns
    -------
    net : nn.Module
        The same object, for chaining.

    Raises
    ------
    InvalidParameterError
        For an unknown scheme, a non-CPU generator, or a module with parameters of an unknown kind.
    """
    check_option("scheme", scheme, INIT_SCHEMES, caller="init_weights")
    if not isinstance(net, nn.Module):
        raise InvalidParameterError(
            f"init_weights(): net={type(net).__name__} is not an nn.Module; expected a network."
        )
    if generator is not None and (not isinstance(generator, torch.Generator) or generator.device.type != "cpu"):
        raise InvalidParameterError(
            f"init_weights(): generator={generator!r} is not a CPU torch.Generator; expected torch.Generator() or None."
        )
    for name, module in net.named_modules():
        if isinstance(module, (nn.Conv2d, nn.Linear)):
            _draw_weight(module, scheme, generator)
        elif isinstance(module, nn.modules.batchnorm._BatchNorm):
            module.reset_parameters()
        elif any(True for _ in module.parameters(recurse=False)):
            raise InvalidParameterError(
                f"init_weights(): module {name!r} ({type(module).__name__}) holds parameters no scheme covers; "
                "expected only Conv2d, Linear and BatchNorm to hold parameters."
            )
    return net


def build_initialized(factory: Callable[[], nn.Module], *, init: str, seed: int | None, caller: str) -> nn.Module:
    """Construct a module with `factory` and initialize it per spec §2.3.

    With `seed` set, construction runs on a forked global RNG (the caller's RNG state is neither read
    nor changed) and the weights are then drawn from ``torch.Generator().manual_seed(seed)``. With
    ``seed=None`` the global RNG is used, as any PyTorch module would.
    """
    check_option("init", init, INIT_SCHEMES, caller=caller)
    if seed is None:
        net = factory()
        return net if init == "torch_default" else init_weights(net, init)
    seed = check_int("seed", seed, caller=caller, minimum=0, maximum=2**63 - 1)
    with torch.random.fork_rng(devices=[]):
        net = factory()
    return init_weights(net, init, generator=torch.Generator().manual_seed(seed))
