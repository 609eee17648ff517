"""The architecture record of a model file, checked as data from a stranger before anything
is built: structure and types, every layer's config and array shapes, the size of the whole.

    total = check_architecture(arch, fields)     # ModelFileError naming file and field
    expected = declared_arrays(arch["layers"])   # {"W1": (784, 50), "Residual1.W1": ...}

Caps (module constants): at most MAX_LAYERS layers counted through Residual blocks, nested at
most MAX_NESTING deep, and MAX_VALUES parameter and buffer values in all - computed from the
declared shapes and, for a course network, from its config (without building it); the two
counts must agree. Course-network config values are range-checked (sizes up to MAX_UNITS,
images up to MAX_SIDE pixels a side, filters up to MAX_KERNEL).
"""

from __future__ import annotations

import inspect
import math
from collections import Counter

from dlscratch.init import SCHEMES
from dlscratch.io.fields import Fields, is_int, is_number, join, kind, show
from dlscratch.layers import LAYER_TYPES, conv_output_size
from dlscratch.nets import COURSE_NETS
from dlscratch.nets.conv_nets import DEEP_CONV_PARAMS
from dlscratch.nets.two_layer import ACTIVATIONS

FORMAT, VERSION = "dlscratch-model", 1
MAX_LAYERS = 1_000
MAX_NESTING = 16  # Residual blocks inside Residual blocks
MAX_VALUES = 50_000_000  # 200 MB as float32; the course's largest network has about 1M
MAX_UNITS = 65_536  # hidden sizes, filter counts, classes
MAX_INPUT = 2**20  # input features of a fully connected network
MAX_SIDE = 4_096  # image height and width
MAX_CHANNELS = 4_096
MAX_KERNEL = 64  # filter and pool sizes, strides, padding
MAX_NDIM = 8
MAX_SEED = 2**128
FLOAT_DTYPES = ("float16", "float32", "float64")  # what the layers compute in
MAX_INIT_STD = 1e3  # a larger weight_init_std only makes Inf weights while building
# layer types whose config and shapes check_layer knows (others: their constructor checks)
CHECKED_LAYERS = ("Affine", "BatchNormalization", "Convolution", "Dropout", "Flatten",
                  "Inception", "Pooling", "Relu", "Residual", "Sigmoid")
COMPOSITE_LAYERS = ("Residual", "Inception")  # layers holding layers (a LayerStack)
TOP_KEYS = ("format", "version", "model", "dtype", "weight_decay_lambda", "loss", "layers")


def check_architecture(arch, fields: Fields) -> int:
    """Check `arch` (the parsed record); return its number of parameter and buffer values."""
    if not isinstance(arch, dict):
        raise fields.refuse("architecture", f"the architecture record must be a JSON object, "
                                            f"got {kind(arch)}")
    if arch.get("format") != FORMAT:
        raise fields.refuse("format", f"not a dlscratch model file (format "
                                      f"{show(arch.get('format'))})")
    if arch.get("version") != VERSION or not is_int(arch.get("version")):
        raise fields.refuse("version", f"model format version {show(arch.get('version'))} is "
                                       f"not supported (this dlscratch reads version {VERSION})")
    fields.obj(arch, "", TOP_KEYS, ("config",))
    model = arch["model"]
    if not isinstance(model, str) or not model.isidentifier() or len(model) > 100:
        raise fields.fail("model", f"must be a class name, got {show(model)}")
    fields.choice(arch["dtype"], "dtype", FLOAT_DTYPES)
    fields.number(arch["weight_decay_lambda"], "weight_decay_lambda", 0)
    loss = arch["loss"]
    if not (isinstance(loss, str) and loss.endswith("Loss") and loss in LAYER_TYPES):
        raise fields.fail("loss", f"must name a loss layer such as 'SoftmaxWithLoss', got "
                                  f"{show(loss)}")
    if fields.list(arch["layers"], "layers") == []:
        raise fields.fail("layers", "is empty: a network needs at least one layer")
    total = _Walk(fields).layers(arch["layers"], "layers", 0)
    if total > MAX_VALUES:
        raise fields.fail("layers", f"declare {total} parameter values, more than {MAX_VALUES}")
    config = arch.get("config")
    if config is not None and model in COURSE_NETS:
        implied = check_course_config(model, config, fields)
        if implied != total:
            raise fields.fail("config", f"of {model} implies {implied} parameter values, but "
                                        f"its layers declare {total}")
    elif config is not None:
        fields.obj(config, "config", optional=None)
    return total


def inner_specs(spec: dict) -> list:
    """The specs of a (checked) composite layer's inner layers, in its LayerStack's order."""
    if spec["type"] == "Inception":
        return [inner for branch in spec["config"]["branches"] for inner in branch]
    return spec["config"]["layers"]


def declared_arrays(specs: list) -> dict[str, tuple[int, ...]]:
    """Key -> shape of every parameter and buffer the (checked) layer specs declare, named as
    LayerStack names them (W1, b1, ... per name; "Residual1.W1" inside a block)."""
    type_count, params, buffers = Counter(), {}, {}
    for spec in specs:
        type_count[spec["type"]] += 1
        if spec["type"] in COMPOSITE_LAYERS:
            name = f"{spec['type']}{type_count[spec['type']]}"
            inner = declared_arrays(inner_specs(spec))
            params.update({f"{name}.{k}": v for k, v in inner.items()})
            continue
        for part, table in (("params", params), ("buffers", buffers)):
            for attr, shape in spec[part].items():
                type_count[f"/{attr}"] += 1
                table[f"{attr}{type_count[f'/{attr}']}"] = tuple(shape)
    return {**params, **buffers}


class _Walk:
    """Walk the layer specs, counting layers and values against the caps."""

    def __init__(self, fields: Fields):
        self.fields, self.count = fields, 0

    def layers(self, specs, field: str, depth: int) -> int:
        self.fields.list(specs, field)
        return sum(self.layer(spec, join(field, i), depth) for i, spec in enumerate(specs))

    def layer(self, spec, field: str, depth: int) -> int:
        f = self.fields
        f.obj(spec, field, ("type", "config", "params", "buffers"))
        name = spec["type"]
        if not isinstance(name, str) or name not in LAYER_TYPES:
            raise f.fail(join(field, "type"), f"is an unknown layer type {show(name)}")
        if name.endswith("Loss"):
            raise f.fail(join(field, "type"), f"is the loss {name}, not a layer")
        self.count += 1
        if self.count > MAX_LAYERS:
            raise f.fail(field, f"is one layer more than the {MAX_LAYERS} a network may have")
        cls = LAYER_TYPES[name]
        shapes = {}
        for part, names in (("params", cls.param_names), ("buffers", cls.buffer_names)):
            table = f.obj(spec[part], join(field, part), names)
            shapes.update({k: self.shape(v, join(join(field, part), k))
                           for k, v in table.items()})
        config = f.obj(spec["config"], join(field, "config"), optional=None)
        if name in COMPOSITE_LAYERS:
            if depth + 1 > MAX_NESTING:
                raise f.fail(field, f"nests {name} blocks more than {MAX_NESTING} deep")
            if name == "Residual":
                f.obj(config, join(field, "config"), ("layers",))
                return self.layers(config["layers"], join(join(field, "config"), "layers"),
                                   depth + 1)
            f.obj(config, join(field, "config"), ("branches",))
            branches = join(join(field, "config"), "branches")
            if not f.list(config["branches"], branches) or not all(config["branches"]):
                raise f.fail(branches, "must hold at least one branch and a layer in each")
            return sum(self.layers(branch, join(branches, i), depth + 1)
                       for i, branch in enumerate(config["branches"]))
        check_layer(name, config, shapes, field, f)
        total = sum(math.prod(s) for s in shapes.values())
        if total > MAX_VALUES:
            raise f.fail(field, f"declares {total} values, more than {MAX_VALUES}")
        return total

    def shape(self, value, field: str) -> tuple[int, ...]:
        self.fields.list(value, field, MAX_NDIM)
        for i, n in enumerate(value):
            self.fields.int(n, join(field, i), 0, MAX_VALUES)
        return tuple(value)


def check_layer(name: str, config: dict, shapes: dict, field: str, f: Fields) -> None:
    """The config and array shapes of one built-in layer (other registered types: as given)."""
    cfg = join(field, "config")
    if name in ("Affine", "Convolution"):
        W, b = shapes["W"], shapes["b"]
        ndim = 2 if name == "Affine" else 4
        if len(W) != ndim or b != (W[1] if name == "Affine" else W[0],):
            raise f.fail(join(field, "params"), f"of {name} must be W with {ndim} dimensions "
                                                f"and b of its outputs, got W {W} and b {b}")
    if name == "Convolution":
        f.obj(config, cfg, ("stride", "pad"))
        f.int(config["stride"], join(cfg, "stride"), 1, MAX_KERNEL)
        f.int(config["pad"], join(cfg, "pad"), 0, MAX_KERNEL)
    elif name == "Pooling":
        f.obj(config, cfg, ("pool_h", "pool_w", "stride", "pad"))
        for key, low in (("pool_h", 1), ("pool_w", 1), ("stride", 1), ("pad", 0)):
            f.int(config[key], join(cfg, key), low, MAX_KERNEL)
        if 2 * config["pad"] > min(config["pool_h"], config["pool_w"]):
            raise f.fail(join(cfg, "pad"), "must be at most half the pool size")
    elif name == "BatchNormalization":
        f.obj(config, cfg, ("momentum", "eps"))
        f.number(config["momentum"], join(cfg, "momentum"), 0, 1)
        f.number(config["eps"], join(cfg, "eps"), 0, 1, lo_open=True)
        if len({shapes[k] for k in shapes}) != 1 or len(shapes["gamma"]) != 1:
            raise f.fail(field, f"must have gamma, beta, running_mean and running_var of one "
                                f"shape (D,), got {show(shapes, 120)}")
    elif name == "Dropout":
        f.obj(config, cfg, ("dropout_ratio", "inverted"))
        f.number(config["dropout_ratio"], join(cfg, "dropout_ratio"), 0, 1, hi_open=True)
        f.boolean(config["inverted"], join(cfg, "inverted"))
    elif name in ("Affine", "Flatten", "Relu", "Sigmoid"):
        f.obj(config, cfg)
    else:  # a layer type registered by the user: JSON scalars, checked by its constructor
        for key, value in config.items():
            if isinstance(value, (dict, list)):
                raise f.fail(join(cfg, show(key)), f"must be a number, string, boolean or "
                                                   f"null, got {kind(value)}")


# -- the course networks: config checked, values counted without building ----------------

def _units(hi=MAX_UNITS):
    return lambda f, v, field: f.int(v, field, 1, hi)


def _init_std(f, v, field):
    if not (isinstance(v, str) and v.lower() in SCHEMES
            or is_number(v) and 0 <= v <= MAX_INIT_STD):
        raise f.fail(field, f"must be a number in [0, {MAX_INIT_STD:g}] or one of "
                            f"{', '.join(map(repr, SCHEMES))}, got {show(v)}")


def _activation(f, v, field):
    if not (isinstance(v, str) and v.lower() in ACTIVATIONS):
        raise f.fail(field, f"must be one of {', '.join(map(repr, ACTIVATIONS))}, got {show(v)}")


def _hidden_list(f, v, field):
    for i, n in enumerate(f.list(v, field, MAX_LAYERS // 4)):
        f.int(n, join(field, i), 1, MAX_UNITS)


def _input_dim(f, v, field):
    f.list(v, field, length=3)
    for i, (n, hi) in enumerate(zip(v, (MAX_CHANNELS, MAX_SIDE, MAX_SIDE), strict=True)):
        f.int(n, join(field, i), 1, hi)


def _conv_param(f, v, field):
    f.obj(v, field, (), ("filter_num", "filter_size", "pad", "stride"))
    for key, low, hi in (("filter_num", 1, MAX_UNITS), ("filter_size", 1, MAX_KERNEL),
                         ("pad", 0, MAX_KERNEL), ("stride", 1, MAX_KERNEL)):
        if key in v:
            f.int(v[key], join(field, key), low, hi)


def _seed(f, v, field):
    if v is not None:
        f.int(v, field, 0, MAX_SEED)


_SHARED = {"output_size": _units(), "dtype": lambda f, v, field: f.choice(v, field, FLOAT_DTYPES),
           "seed": _seed}
_RATIO = {"dropout_ratio": lambda f, v, field: f.number(v, field, 0, 1, hi_open=True),
          "inverted_dropout": lambda f, v, field: f.boolean(v, field)}
_MLP = {"input_size": _units(MAX_INPUT), "hidden_size_list": _hidden_list,
        "activation": _activation, "weight_init_std": _init_std,
        "weight_decay_lambda": lambda f, v, field: f.number(v, field, 0), **_SHARED}
COURSE_CONFIGS = {
    "TwoLayerNet": {"input_size": _units(MAX_INPUT), "hidden_size": _units(),
                    "weight_init_std": _init_std, "activation": _activation, **_SHARED},
    "MultiLayerNet": _MLP,
    "MultiLayerNetExtend": {**_MLP, **_RATIO, "use_dropout": _RATIO["inverted_dropout"],
                            "use_batchnorm": _RATIO["inverted_dropout"]},
    "SimpleConvNet": {"input_dim": _input_dim, "conv_param": _conv_param,
                      "hidden_size": _units(), "weight_init_std": _init_std, **_SHARED},
    "DeepConvNet": {"input_dim": _input_dim, "hidden_size": _units(), **_RATIO, **_SHARED},
}


def check_course_config(model: str, config, f: Fields) -> int:
    """Check a course network's constructor arguments; return the values it would hold."""
    schema = COURSE_CONFIGS[model]
    defaults = {name: p.default for name, p in
                inspect.signature(COURSE_NETS[model]).parameters.items() if name in schema}
    required = [k for k, d in defaults.items() if d is inspect.Parameter.empty]
    f.obj(config, "config", required, schema)
    for key, check in schema.items():
        if key in config:
            check(f, config[key], join("config", key))
    c = {**defaults, **config}
    out = c["output_size"]
    if model == "TwoLayerNet":
        sizes = [c["input_size"], c["hidden_size"], out]
    elif model in ("MultiLayerNet", "MultiLayerNetExtend"):
        sizes = [c["input_size"], *c["hidden_size_list"], out]
    if model in ("TwoLayerNet", "MultiLayerNet", "MultiLayerNetExtend"):
        total = sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:], strict=True))
        return total + (4 * sum(sizes[1:-1]) if c.get("use_batchnorm") else 0)
    channels, h, w = c["input_dim"]
    if model == "SimpleConvNet":
        conv = {"filter_num": 30, "filter_size": 5, "pad": 0, "stride": 1,
                **(c["conv_param"] or {})}
        convs = [(conv["filter_num"], conv["filter_size"], conv["pad"], conv["stride"])]
    else:
        convs = DEEP_CONV_PARAMS
    total = 0
    for i, (fn, fs, pad, stride) in enumerate(convs):
        total += fn * channels * fs * fs + fn
        channels = fn
        h, w = conv_output_size(h, fs, stride, pad), conv_output_size(w, fs, stride, pad)
        if model == "SimpleConvNet" or i % 2 == 1:
            h, w = h // 2, w // 2
        if min(h, w) < 1:
            raise f.fail("config.input_dim", f"{c['input_dim']} is too small for {model}'s "
                                             f"filters and pooling")
    hidden = c["hidden_size"]
    return total + channels * h * w * hidden + hidden + hidden * out + out
