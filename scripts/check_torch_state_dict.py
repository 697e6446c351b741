#!/usr/bin/env python3
"""Checks that a ganengine state dict (a safetensors file) loads into the same model in PyTorch.

    check_torch_state_dict.py FILE.safetensors SPEC.json [--export OUT.safetensors]

SPEC.json describes the model as a torch.nn.Sequential and what the file should hold:

    {"layers": [{"type": "Conv2d", "in": 3, "out": 4, "kernel": 3, "stride": 1, "padding": 1,
                 "spectral_norm": true},
                {"type": "BatchNorm2d", "features": 4}, {"type": "LeakyReLU", "slope": 0.2},
                {"type": "ConvTranspose2d", ...}, {"type": "Tanh"}, {"type": "Flatten"},
                {"type": "Linear", "in": 8, "out": 3}],
     "keys": {"0.weight_orig": [4, 3, 3, 3], ...},      # expected names and shapes
     "input": {"shape": [...], "values": [...]},       # optional: an eval-mode forward
     "output": {"shape": [...], "values": [...]},      #   and the output ganengine computed
     "atol": 1e-4}

Checks: the file's names and shapes equal "keys" and the torch model's state_dict;
load_state_dict(strict=True) succeeds; the eval-mode output matches "output". With --export, a
freshly initialised torch model of the same spec (its BatchNorm statistics moved by one training
step) is written to OUT.safetensors (num_batches_tracked as I64, as PyTorch keeps it) and its
eval-mode output for "input" to OUT.safetensors.json, for the reverse check.

The safetensors format is parsed here (struct + json), so only torch is needed.
Exit status: 0 when every check passes, 1 when one fails, 2 on bad arguments or files.
"""
import json
import struct
import sys

import torch

DTYPES = {
    "F32": torch.float32,
    "F64": torch.float64,
    "F16": torch.float16,
    "BF16": torch.bfloat16,
    "I64": torch.int64,
    "I32": torch.int32,
    "I16": torch.int16,
    "I8": torch.int8,
    "U8": torch.uint8,
    "BOOL": torch.bool,
}
NAMES = {v: k for k, v in DTYPES.items()}


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 8:
        raise ValueError(f"{path}: shorter than the 8-byte header length")
    (n,) = struct.unpack("<Q", data[:8])
    if 8 + n > len(data):
        raise ValueError(f"{path}: header of {n} bytes runs past the end of the file")
    header = json.loads(data[8 : 8 + n].decode("utf-8"))
    body = data[8 + n :]
    tensors = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        begin, end = entry["data_offsets"]
        dtype = DTYPES[entry["dtype"]]
        raw = bytearray(body[begin:end])
        flat = torch.frombuffer(raw, dtype=dtype) if raw else torch.empty(0, dtype=dtype)
        tensors[name] = flat.reshape(entry["shape"])
    return tensors


def write_safetensors(path, tensors):
    header, chunks, offset = {}, [], 0
    for name in sorted(tensors):
        t = tensors[name].detach().contiguous().cpu()
        raw = t.numpy().tobytes()
        header[name] = {
            "dtype": NAMES[t.dtype],
            "shape": list(t.shape),
            "data_offsets": [offset, offset + len(raw)],
        }
        chunks.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for raw in chunks:
            f.write(raw)


def build_layer(spec):
    kind = spec["type"]
    if kind == "Linear":
        layer = torch.nn.Linear(spec["in"], spec["out"], bias=spec.get("bias", True))
    elif kind in ("Conv2d", "ConvTranspose2d"):
        cls = getattr(torch.nn, kind)
        extra = {"output_padding": spec.get("output_padding", 0)} if kind != "Conv2d" else {}
        layer = cls(
            spec["in"],
            spec["out"],
            spec["kernel"],
            stride=spec.get("stride", 1),
            padding=spec.get("padding", 0),
            groups=spec.get("groups", 1),
            bias=spec.get("bias", True),
            **extra,
        )
    elif kind == "BatchNorm2d":
        layer = torch.nn.BatchNorm2d(spec["features"], eps=spec.get("eps", 1e-5),
                                     momentum=spec.get("momentum", 0.1))
    elif kind == "Embedding":
        layer = torch.nn.Embedding(spec["num"], spec["dim"])
    elif kind == "LeakyReLU":
        layer = torch.nn.LeakyReLU(spec.get("slope", 0.01))
    elif kind == "Tanh":
        layer = torch.nn.Tanh()
    elif kind == "Flatten":
        layer = torch.nn.Flatten()
    elif kind == "PReLU":
        layer = torch.nn.PReLU(spec.get("parameters", 1), spec.get("init", 0.25))
    else:
        raise ValueError(f"unknown layer type {kind!r}")
    if spec.get("spectral_norm", False):
        layer = torch.nn.utils.spectral_norm(layer)
    return layer


def build_model(spec):
    return torch.nn.Sequential(*[build_layer(s) for s in spec["layers"]])


def tensor_of(entry):
    return torch.tensor(entry["values"], dtype=torch.float32).reshape(entry["shape"])


def check(path, spec):
    """Returns a list of failures (empty when the file passes)."""
    failures = []
    state = read_safetensors(path)
    model = build_model(spec)
    torch_shapes = {k: list(v.shape) for k, v in model.state_dict().items()}
    file_shapes = {k: list(v.shape) for k, v in state.items()}
    references = (("the spec's keys", spec.get("keys")), ("torch's state_dict", torch_shapes))
    for label, expected in references:
        if expected is None:
            continue
        missing = sorted(set(expected) - set(file_shapes))
        unexpected = sorted(set(file_shapes) - set(expected))
        if missing:
            failures.append(f"{path}: missing keys compared with {label}: {missing}")
        if unexpected:
            failures.append(f"{path}: unexpected keys compared with {label}: {unexpected}")
        for k in sorted(set(expected) & set(file_shapes)):
            if list(expected[k]) != file_shapes[k]:
                failures.append(f"{path}: {k}: shape {file_shapes[k]} in the file, "
                                f"{list(expected[k])} in {label}")
    if failures:
        return failures
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as e:
        return [f"{path}: torch load_state_dict(strict=True) failed: {e}"]
    for k, v in model.state_dict().items():
        if not torch.equal(v.to(state[k].dtype), state[k]):
            failures.append(f"{path}: {k}: values differ after load_state_dict")
    if "input" in spec and "output" in spec:
        model.eval()
        with torch.no_grad():
            y = model(tensor_of(spec["input"]))
        expected = tensor_of(spec["output"])
        if list(y.shape) != list(expected.shape):
            failures.append(f"eval output shape {list(y.shape)} from torch, "
                            f"{list(expected.shape)} from ganengine")
        else:
            err = (y - expected).abs().max().item()
            if err > spec.get("atol", 1e-4):
                failures.append(f"eval output differs from torch's by {err} "
                                f"(atol {spec.get('atol', 1e-4)})")
    return failures


def export(path, spec):
    torch.manual_seed(spec.get("seed", 0))
    model = build_model(spec)
    if "input" in spec:
        x = tensor_of(spec["input"])
        model.train()
        with torch.no_grad():
            model(x)  # moves BatchNorm's statistics and spectral norm's u, v
        model.eval()
        with torch.no_grad():
            y = model(x)
        with open(path + ".json", "w") as f:
            json.dump({"shape": list(y.shape), "values": y.reshape(-1).tolist()}, f)
    write_safetensors(path, model.state_dict())


def main(argv):
    args = argv[1:]
    out = None
    if "--export" in args:
        i = args.index("--export")
        if i + 1 >= len(args):
            print("--export needs a path", file=sys.stderr)
            return 2
        out = args[i + 1]
        del args[i : i + 2]
    if len(args) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    path, spec_path = args
    try:
        with open(spec_path) as f:
            spec = json.load(f)
        failures = check(path, spec)
        if out is not None:
            export(out, spec)
    except (OSError, ValueError, KeyError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    for line in failures:
        print(line, file=sys.stderr)
    if failures:
        return 1
    print(f"{path}: {len(read_safetensors(path))} tensors load into torch {torch.__version__}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
