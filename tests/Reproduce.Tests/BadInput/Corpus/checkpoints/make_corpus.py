#!/usr/bin/env python3
"""Writes the malformed safetensors checkpoints of the bad-input corpus (run from this folder; plain Python, no torch).
Each file is a checkpoint of the MLP 4-3-2 (tensors features.fc0.*, classifier.*) with one defect; expected.json
holds the exact error each must produce."""
import json, struct

SPEC = json.dumps({"kind": "mlp", "inputShape": [4], "classes": 2, "widths": [4, 3, 2], "activation": "relu"}, separators=(",", ":"))
SHAPES = {"classifier.bias": [2], "classifier.weight": [2, 3], "features.fc0.bias": [3], "features.fc0.weight": [3, 4]}

def tensors(nan_in=None):
    entries, blob = [], b""
    for name, shape in SHAPES.items():
        n = 1
        for s in shape: n *= s
        values = [0.25 * (i + 1) for i in range(n)]
        if name == nan_in: values[1] = float("nan")
        data = struct.pack("<%df" % n, *values)
        entries.append((name, {"dtype": "F32", "shape": shape, "data_offsets": [len(blob), len(blob) + len(data)]}))
        blob += data
    return entries, blob

def write(path, header_text, blob):
    raw = header_text.encode("utf-8")
    raw += b" " * ((8 - len(raw) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(raw))); f.write(raw); f.write(blob)

def header(entries, metadata):
    return "{" + ",".join([json.dumps("__metadata__") + ":" + json.dumps(metadata)] + [json.dumps(k) + ":" + json.dumps(v) for k, v in entries]) + "}"

entries, blob = tensors()
write("metadata-number.safetensors", header(entries, {"model_spec": SPEC, "seed": 3}), blob)
write("metadata-array.safetensors", "{" + ",".join(['"__metadata__":[1,2]'] + [json.dumps(k) + ":" + json.dumps(v) for k, v in entries]) + "}", blob)
dup = header(entries, {"model_spec": SPEC})
first = json.dumps("features.fc0.bias") + ":" + json.dumps(dict(entries)["features.fc0.bias"])
write("duplicate-tensor.safetensors", dup[:-1] + "," + first + "}", blob)
nan_entries, nan_blob = tensors(nan_in="features.fc0.weight")
write("nan-weights.safetensors", header(nan_entries, {"model_spec": SPEC}), nan_blob)
huge = json.dumps({"kind": "mlp", "inputShape": [784], "classes": 10, "widths": [784, 100000000, 10], "activation": "relu"}, separators=(",", ":"))
write("huge-spec.safetensors", header(entries, {"model_spec": huge}), blob)
over = [(k, dict(v, shape=[4611686018427387904, 4]) if k == "features.fc0.weight" else v) for k, v in entries]
write("shape-overflow.safetensors", header(over, {"model_spec": SPEC}), blob)
num = [(k, dict(v, dtype=5) if k == "features.fc0.weight" else v) for k, v in entries]
write("dtype-number.safetensors", header(num, {"model_spec": SPEC}), blob)
